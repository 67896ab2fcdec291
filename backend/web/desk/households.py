"""Household pages: search my area, register and edit with the API's checks shown field by
field, import a ledger with its report, and one household's facts, appraisals, cases and
visits of every kind with their photos."""

import hashlib
from types import SimpleNamespace

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backend import display
from backend.api.households import HouseholdFieldsSchema
from backend.extensions import db
from backend.services import households, imports, policy, regions
from backend.services.checklists.names import names as checklist_names
from backend.services.errors import Conflict, InvalidImportFile, InvalidInput, status_of
from backend.services.households import HouseholdQuery
from backend.services.visits import reviewing
from backend.vocabulary import CATEGORIES, LOCATION_SOURCES, STRUCTURE_TYPES, TARGET_CATEGORIES
from backend.web.desk.base import actor, region_code, whole_number
from backend.web.desk.rounds import area_choices

bp = Blueprint("households", __name__)
PAGE_SIZE = 50
FIELDS = ("village_code", "group_name", "name", "id_number", "phone", "family_size",
          "identities", "address", "year_built", "floor_area_m2", "rooms", "storeys",
          "structure_type", "notes")
REQUIRED = ("village_code", "name", "id_number", "identities")  # no identity: 一般农户
# Personal data a caller without the PII right never sees in full, so cannot be shown to edit:
# left blank, it stays as it is.
PRIVATE = ("id_number", "phone")
# The API's schema refuses in marshmallow's words; the form says what it wants instead.
HINTS = {
    "village_code": "请选择村",
    "group_name": "村民小组不超过50字",
    "name": "请填写户主姓名（不超过50字）",
    "id_number": "请填写18位身份证号",
    "phone": "联系电话不超过20位",
    "family_size": "家庭人口应为 1–30 的整数",
    "identities": "请选择重点对象身份",
    "category": "请选择重点对象身份",
    "address": "地址不超过200字",
    "year_built": "建房年份应为 1800–2100 的整数",
    "floor_area_m2": "建筑面积应为 1–10000 的数字（平方米）",
    "rooms": "间数应为 0–100 的整数",
    "storeys": "层数应为 1–10 的整数",
    "structure_type": "请选择结构类型",
    "notes": "备注格式有误",
}
NOTICES = {"created": "已登记该农户", "saved": "已保存修改"}
# An import report names a row's field by the ledger's own column heading.
IMPORT_LABELS: dict[str, str] = {}
for heading, column in imports.HEADERS.items():
    IMPORT_LABELS.setdefault(column, heading)


@bp.context_processor
def household_words() -> dict:
    me = actor()
    return {"show_phone": show_phone, "STRUCTURE_TYPES": STRUCTURE_TYPES,
            "TARGET_CATEGORIES": TARGET_CATEGORIES,
            "LOCATION_SOURCES": LOCATION_SOURCES, "IMPORT_LABELS": IMPORT_LABELS,
            "can_write": me.can(policy.HOUSEHOLD_WRITE),
            "can_import": me.can(policy.HOUSEHOLD_IMPORT),
            "can_apply": me.can(policy.CASE_APPLY), "sees_pii": me.can(policy.PII)}


def show_phone(number: str | None) -> str:
    return display.phone(number, actor()) or display.EMPTY


# --- search --------------------------------------------------------------------------------
@bp.get("/households", endpoint="households")
def household_list():
    me, args = actor(), request.args
    query = HouseholdQuery(q=args.get("q", "").strip()[:50] or None,
                           region=region_code(args.get("region")),
                           category=args.get("category") if args.get("category") in CATEGORIES
                           else None,
                           cursor=args.get("cursor") or None, limit=PAGE_SIZE)
    page = max(1, whole_number(args.get("page"), 1)) if query.cursor else 1
    error, status = None, 200
    try:
        rows, next_cursor = households.list_households(db.session, me, query,
                                                       cursor_key=cursor_key())
    except InvalidInput as refusal:
        rows, next_cursor, status = [], None, 422
        error = "；".join(str(m) for m in refusal.fields.values()) or refusal.message
    filters = {k: v for k, v in (("q", query.q), ("region", query.region),
                                 ("category", query.category)) if v}
    return render_template(
        "review/households.html", rows=rows, next_cursor=next_cursor, page=page,
        query=query, filters=filters, towns=area_choices(regions.region_tree(db.session, me)),
        notice=NOTICES.get(args.get("notice")), error=error), status


def cursor_key() -> bytes:
    return hashlib.sha256(b"desk-cursor:" + current_app.secret_key.encode()).digest()


# --- one household -------------------------------------------------------------------------
@bp.get("/households/<int:household_id>", endpoint="household")
def household_page(household_id: int):
    me = actor()
    h = households.get_household(db.session, me, household_id)
    record = reviewing.household_record(db.session, me, h)
    words = checklist_names()
    # What _visit.html reads of a case's dossier: who acted, and the names of nodes and items.
    r = SimpleNamespace(users=record.users, node_names=words.nodes, item_names=words.items)
    return render_template("review/household.html", h=h, record=record, r=r,
                           notice=NOTICES.get(request.args.get("notice")))


# --- register and edit ---------------------------------------------------------------------
@bp.route("/households/new", methods=["GET", "POST"], endpoint="new_household")
def new_household():
    me = actor()
    me.require(policy.HOUSEHOLD_WRITE)
    if request.method == "GET":
        return _form_page(None, {**dict.fromkeys(FIELDS, ""), "identities": []})
    form = _typed(request.form)
    try:
        h = households.create_household(db.session, me, _values(form))
    except (InvalidInput, Conflict) as refusal:
        db.session.rollback()
        return _refused(None, form, refusal)
    return redirect(url_for("desk.households.household", household_id=h.id, notice="created"),
                    303)


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"],
          endpoint="edit_household")
def edit_household(household_id: int):
    me = actor()
    me.require(policy.HOUSEHOLD_WRITE)
    h = households.get_household(db.session, me, household_id)
    private = () if me.can(policy.PII) else PRIVATE
    if request.method == "GET":
        form = {k: "" if k in private else _shown(getattr(h, k)) for k in FIELDS}
        return _form_page(h, form)
    form = _typed(request.form)
    try:
        values = _values(form, skip={k for k in private if not form[k]})
        households.update_household(db.session, me, household_id, values)
    except (InvalidInput, Conflict) as refusal:
        db.session.rollback()
        return _refused(h, form, refusal)
    return redirect(url_for("desk.households.household", household_id=household_id,
                            notice="saved"), 303)


def _typed(form) -> dict:
    return {k: form.getlist(k) if k == "identities" else form.get(k, "").strip()
            for k in FIELDS}


def _shown(value) -> str | list:
    if isinstance(value, list):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _values(form: dict, *, skip: set = frozenset()) -> dict:
    """Load the form with the API's schema, then name every field the service would refuse too."""
    data = {k: form[k] if k in REQUIRED else (form[k] or None) for k in FIELDS if k not in skip}
    try:
        return HouseholdFieldsSchema(exclude=tuple(skip)).load(data)
    except ValidationError as error:
        problems = {field: HINTS.get(field, "格式有误") for field in error.messages}
        try:
            households.validate_fields(db.session, actor(), dict(error.valid_data or {}))
        except InvalidInput as more:
            problems = {**more.fields, **problems}
        raise InvalidInput(fields=problems) from error


def _refused(h, form: dict, refusal):
    message = refusal.message if not refusal.fields else "请按提示修改标红的项目"
    return _form_page(h, form, problems=refusal.fields, error=message,
                      status=status_of(refusal))


def _form_page(h, form: dict, *, problems: dict | None = None, error: str | None = None,
               status: int = 200):
    towns = area_choices(regions.region_tree(db.session, actor()))
    return render_template("review/household_form.html", h=h, form=form, towns=towns,
                           problems=problems or {}, error=error), status


# --- import --------------------------------------------------------------------------------
@bp.route("/households/import", methods=["GET", "POST"], endpoint="import_households")
def import_page():
    me = actor()
    me.require(policy.HOUSEHOLD_IMPORT)
    if request.method == "GET":
        return render_template("review/household_import.html", report=None, problems=[])
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidImportFile("请选择要导入的 CSV 或 XLSX 文件")
        report = imports.import_households(
            db.session, me, upload.filename, upload.stream,
            max_rows=current_app.config.get("IMPORT_MAX_ROWS", 100_000))
    except InvalidImportFile as refusal:
        db.session.rollback()
        return render_template("review/household_import.html", report=None,
                               error=refusal.message, problems=_flat(refusal.fields),
                               filename=upload.filename if upload else None), 422
    notice = f"已导入 {report['created']} 户" + (
        f"，{report['rejected']} 行有误未导入" if report["rejected"] else "")
    return render_template("review/household_import.html", report=report, problems=[],
                           filename=upload.filename, notice=notice)


def _flat(fields: dict) -> list[str]:
    """Every message of a refusal, nested ones (the header check's) included."""
    out = []
    for value in fields.values():
        out.extend(_flat(value) if isinstance(value, dict) else [str(value)])
    return out
