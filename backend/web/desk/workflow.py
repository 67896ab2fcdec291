"""Desk pages of the case procedure: my to-do list, taking an action on a case (with its
documents uploaded in the same form), a case's documents, and the printable publicity list."""

import uuid

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backend import responses
from backend.api.cases import CaseFieldsSchema  # one validation for the API and these forms
from backend.api.households import AppraisalPatchSchema
from backend.api.workflow import ActionSchema
from backend.extensions import db, object_store
from backend.rules import current_rules
from backend.services import attachments, cases, households, policy
from backend.services.errors import DomainError, InvalidInput, status_of
from backend.services.workflow import engine, publicity, todo
from backend.services.workflow.engine import ActionInput
from backend.vocabulary import ATTACHMENT_KINDS, STATUSES
from backend.web.desk.base import actor, is_id, today
from backend.web.desk.cases import case_page

bp = Blueprint("workflow", __name__)
PUBLICITY_LEVELS = {"village_publicity": "村级", "town_publicity": "乡镇级",
                    "county_publicity": "县级"}


@bp.get("/todo")
def todo_page():
    items = todo.todo(db.session, actor(), today())
    overdue = [i for i in items if i.due_on is not None and i.due_on < today()]
    return render_template("review/todo.html", items=items, overdue=len(overdue),
                           today=today())


@bp.post("/cases/<int:case_id>/actions")
def act(case_id: int):
    """One action from the case page's forms; its documents are stored first, so a refusal
    keeps them on the case and the page says why, with what was typed."""
    form = request.form
    try:
        uploaded = _store_uploads(case_id)
        given = _action_from(form, uploaded)
        engine.perform(db.session, actor(), case_id, given, today(),
                       photo_rules=current_rules().photos)
    except DomainError as error:
        db.session.rollback()
        return case_page(case_id, failed={
            "action": form.get("action"), "message": error.message,
            "reasons": error.details.get("reasons") or [],
            "fields": {k: str(v) for k, v in error.fields.items()}}, typed=form,
            status=status_of(error))
    return redirect(url_for("desk.cases.case", case_id=case_id, notice="acted") + "#workflow",
                    303)


def _uploads() -> list[tuple[str, str, bytes]]:
    """The form's documents as (kind, filename, bytes), each checked by content and size
    first, so a bad file refuses the form before anything is stored."""
    found = []
    for field, upload in request.files.items(multi=True):
        if not field.startswith("doc-") or not upload.filename:
            continue
        kind = field.removeprefix("doc-")
        if kind not in ATTACHMENT_KINDS:
            raise InvalidInput(fields={field: "未知的附件类别"})
        data = upload.read()
        if len(data) > current_app.config["ATTACHMENT_MAX_BYTES"]:
            raise InvalidInput(fields={field: f"{upload.filename} 超过大小限制"})
        attachments.document_type(data)  # 415 for anything but PDF, JPEG or PNG
        found.append((kind, upload.filename, data))
    return found


def _store_uploads(case_id: int, files: list[tuple[str, str, bytes]] | None = None
                   ) -> dict[str, list[str]]:
    """Each document becomes one of the case's; return kind → ids."""
    stored: dict[str, list[str]] = {}
    for kind, filename, data in _uploads() if files is None else files:
        attachment, _ = attachments.store_attachment(
            db.session, object_store(), actor(), str(uuid.uuid4()), data, case_id=case_id,
            kind=kind, filename=filename, max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])
        stored.setdefault(kind, []).append(attachment.id)
    return stored


def _action_from(form, uploaded: dict[str, list[str]]) -> ActionInput:
    """The form as the API's action body, checked by the API's own schema."""
    notice = (uploaded.pop("publicity_photo", None) or [None])[0] \
        if form.get("action") == "post" else None
    body = {key: form.get(key, "").strip() or None for key in (
        "note", "effective_on", "report_phone", "objection_id", "reporter", "content",
        "outcome", "department", "result", "rectify_by", "area_m2", "cost_yuan")}
    body = {k: v for k, v in body.items() if v is not None}
    body.update(action=form.get("action", ""), checks=form.getlist("checks"),
                attachment_ids=[i for ids in uploaded.values() for i in ids],
                justifications={key.removeprefix("justification-"): text.strip()
                                for key, text in form.items()
                                if key.startswith("justification-") and text.strip()})
    if notice:
        body["notice_attachment_id"] = notice
    try:
        return ActionSchema().load(body)
    except ValidationError as error:
        raise InvalidInput(fields=_flat(error.messages)) from error


@bp.post("/cases/<int:case_id>/attachments")
def upload(case_id: int):
    """Add documents of one kind to the case (the archive's papers, whatever the stage)."""
    kind = request.form.get("kind", "")
    try:
        if kind not in ATTACHMENT_KINDS:
            raise InvalidInput(fields={"kind": "请选择附件类别"})
        files = [f for f in request.files.getlist("file") if f.filename]
        if not files:
            raise InvalidInput(fields={"file": "请选择要上传的文件"})
        for upload_ in files:
            attachments.store_attachment(
                db.session, object_store(), actor(), str(uuid.uuid4()), upload_.read(),
                case_id=case_id, kind=kind, filename=upload_.filename,
                max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])
    except DomainError as error:
        db.session.rollback()
        return case_page(case_id, failed={
            "action": "upload", "message": error.message, "reasons": [],
            "fields": {k: str(v) for k, v in error.fields.items()}}, status=status_of(error))
    return redirect(url_for("desk.cases.case", case_id=case_id, notice="uploaded") + "#docs",
                    303)


@bp.post("/appraisals/<int:appraisal_id>")
def appraisal(appraisal_id: int):
    """The appraisal report's signatures, and the county's filing (备案)."""
    form = request.form
    case_id = int(form["case_id"]) if is_id(form.get("case_id", "")) else None
    values = {"signatures": [{"role": key.removeprefix("sign-"), "name": name.strip()}
                             for key, name in form.items()
                             if key.startswith("sign-") and name.strip()]}
    if "filed_on" in form:
        values["filed_on"] = form.get("filed_on") or None
    try:
        body = AppraisalPatchSchema().load(values)
        households.update_appraisal(db.session, actor(), appraisal_id, body, today=today())
    except ValidationError as error:
        db.session.rollback()
        if case_id is None:
            raise InvalidInput(fields=_flat(error.messages)) from error
        return case_page(case_id, failed={"action": "appraisal", "message": "签字或备案有误",
                                          "reasons": [], "fields": _flat(error.messages)},
                         status=422)
    if case_id is None:
        return redirect(url_for("desk.workflow.todo_page"), 303)
    return redirect(url_for("desk.cases.case", case_id=case_id, notice="acted") + "#appraisal",
                    303)


@bp.get("/attachments/<uuid:attachment_id>")
def attachment(attachment_id):
    return responses.attachment_content(actor(), str(attachment_id))


@bp.get("/publicity")
def publicity_list():
    """The names under publicity at one level, as an A4 page to print and post (004 §二(二):
    申请、评议、审核、审批和实际补助水平), ID numbers masked."""
    stage = request.args.get("level", "village_publicity")
    if stage not in PUBLICITY_LEVELS:
        stage = "village_publicity"
    rows = publicity.posted_list(db.session, actor(), stage)
    return render_template("review/publicity.html", rows=rows, stage=stage,
                           levels=PUBLICITY_LEVELS, stage_label=STATUSES[stage],
                           can_print=actor().can(policy.READ))


@bp.route("/households/<int:household_id>/apply", methods=["GET", "POST"])
def apply(household_id: int):
    """The household's written application (申请) with its family, house, request and
    documents; it becomes a case at the county's first stage."""
    me = actor()
    me.require(policy.CASE_APPLY)
    household = households.get_household(db.session, me, household_id)
    if request.method == "GET":
        return _apply_page(household, {})
    form = request.form
    try:
        values = _application_from(form)
        files = _uploads()
        case = cases.open_case(db.session, me, household.id, values, today=today())
        _store_uploads(case.id, files)
    except DomainError as error:
        db.session.rollback()
        return _apply_page(household, form, error=error, status=status_of(error))
    return redirect(url_for("desk.cases.case", case_id=case.id, notice="applied") + "#workflow",
                    303)


def _application_from(form) -> dict:
    """The form as the API's case body, validated by the API's own schema."""
    members = []
    for index in sorted({k.split("-")[1] for k in form if k.startswith("member-")
                         and k.count("-") == 2 and k.split("-")[1].isdigit()}, key=int):
        row = {f: form.get(f"member-{index}-{f}", "").strip()
               for f in ("name", "id_number", "relation", "health")}
        if any(row.values()):
            members.append({k: v for k, v in row.items() if v or k != "health"})
    house = {k: form.get(f"house_{k}", "").strip() for k in
             ("year_built", "area_m2", "rooms", "structure_type", "condition")}
    application = {
        "applicant": form.get("applicant", "").strip(), "members": members,
        "hardship": form.get("hardship", "").strip() or None,
        "house": {k: v for k, v in house.items() if v} or None,
        "reason": form.get("reason", "").strip() or None,
        "requested_method": form.get("method") or None,
        "requested_standard": form.get("requested_standard", "").strip() or None,
        "own_funds_yuan": form.get("own_funds_yuan", "").strip() or None,
        "no_house": form.get("no_house") == "1",
        "disabled_family": form.get("disabled_family") == "1",
        "other_safe_house": form.get("other_safe_house") == "1",
        "redamaged_by_disaster": form.get("redamaged_by_disaster") == "1",
        "on_behalf_by_village": form.get("on_behalf_by_village") == "1",
        "applied_on": form.get("applied_on") or None,
    }
    body = {"year": form.get("year"), "method": form.get("method"),
            "build_mode": form.get("build_mode"), "application": application}
    try:
        return CaseFieldsSchema().load(body)
    except ValidationError as error:
        raise InvalidInput(fields=_flat(error.messages)) from error


def _flat(messages, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as `application.members.0.id_number` → message."""
    flat = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = "；".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return flat


def _apply_page(household, typed, *, error: DomainError | None = None, status: int = 200):
    fields = error.fields if error else {}
    return render_template("review/apply.html", h=household, typed=typed, fields=fields,
                           error_message=error.message if error else None,
                           year=today().year), status
