"""Household import from CSV or XLSX: every valid row is kept, every bad row is reported.

The first row holds the headers, in Chinese as on the county's ledger (户主姓名, 身份证号, 村 …)
or as the API's field names. The 村 column takes a 12-digit village code or a village name
inside the importer's area.
"""

from sqlalchemy import select

from backend import display
from backend.models import Household, Region
from backend.services import audit, ids, inputs, policy, tables
from backend.services.errors import InvalidImportFile
from backend.services.households import NUMBER_BOUNDS, parse_number, primary_category
from backend.services.policy import Actor, in_scope
from backend.vocabulary import CATEGORIES, STRUCTURE_TYPES

HEADERS = {
    "户主姓名": "name", "姓名": "name", "name": "name",
    "身份证号": "id_number", "身份证号码": "id_number", "id_number": "id_number",
    "村": "village", "行政村": "village", "村代码": "village", "village": "village",
    "village_code": "village",
    "村民小组": "group_name", "组": "group_name", "group_name": "group_name",
    "联系电话": "phone", "电话": "phone", "phone": "phone",
    "家庭人口": "family_size", "人口": "family_size", "family_size": "family_size",
    "重点对象类别": "category", "类别": "category", "category": "category",
    "地址": "address", "address": "address",
    "建房年份": "year_built", "year_built": "year_built",
    "建筑面积": "floor_area_m2", "面积": "floor_area_m2", "floor_area_m2": "floor_area_m2",
    "间数": "rooms", "rooms": "rooms",
    "层数": "storeys", "storeys": "storeys",
    "结构类型": "structure_type", "structure_type": "structure_type",
}
REQUIRED = ("name", "id_number", "village")
CATEGORY_BY_LABEL = {label: code for code, label in CATEGORIES.items()}
# The words the seeds' own forms use (004 附件1 header and 填表说明 2) mean the same groups.
CATEGORY_BY_LABEL.update({"严重困难户": "severe_hardship", "农村低保户": "dibao",
                          "农村分散供养特困人员": "tekun"})


def map_headers(header_row: list[str]) -> list[str | None]:
    columns = [HEADERS.get(h.strip()) for h in header_row]
    missing = [name for name in REQUIRED if name not in columns]
    unknown = [h for h, c in zip(header_row, columns, strict=True) if c is None and h.strip()]
    if missing or unknown:
        labels = {"name": "户主姓名", "id_number": "身份证号", "village": "村"}
        problems = {}
        if missing:
            problems["missing"] = "缺少列：" + "、".join(labels[m] for m in missing)
        if unknown:
            problems["unknown"] = "无法识别的列：" + "、".join(unknown)
        raise InvalidImportFile("导入文件的表头不正确", fields={"headers": problems})
    return columns


def import_households(session, actor: Actor, filename: str, stream, *, max_rows: int) -> dict:
    """Import the rows that are valid; return counts and each bad row with its reasons."""
    actor.require(policy.HOUSEHOLD_IMPORT)
    rows = tables.read_rows(stream, max_rows=max_rows)
    header = next(rows, None)
    if header is None:
        raise InvalidImportFile(fields={"file": "文件为空"})
    columns = map_headers(header)

    villages = session.scalars(select(Region).where(Region.level == "village",
                                                    in_scope(actor, Region.code))).all()
    by_code = {v.code: v.code for v in villages}
    by_name: dict[str, list[str]] = {}
    for v in villages:
        by_name.setdefault(v.name, []).append(v.code)
    known = set(session.scalars(select(Household.id_number)))  # one query, not one per row

    created, errors, total = 0, [], 0
    try:
        for number, cells in enumerate(rows, start=2):  # read, checked and kept row by row
            total += 1
            created += _import_row(session, number, columns, cells, known, errors, by_code,
                                   by_name)
    except InvalidImportFile:
        session.rollback()  # too many rows, found while reading: nothing is kept
        raise
    audit.record(session, actor, "import", "household", filename or "upload",
                 {"created": created, "rejected": len(errors)})
    session.commit()
    return {"total": total, "created": created, "rejected": len(errors), "errors": errors}


def _import_row(session, number: int, columns: list, cells: list[str], known: set,
                errors: list, by_code: dict, by_name: dict) -> int:
    """Check one row; add its household (1) or record why not in `errors` (0)."""
    record = {c: cell.strip() for c, cell in zip(columns, cells, strict=False) if c}
    values, problems = _row_values(record, by_code, by_name)
    if not problems and values["id_number"] in known:
        problems["id_number"] = "该身份证号的农户已登记或在文件中重复"
    if problems:
        errors.append({"row": number, "name": record.get("name", ""),
                       "id_number": display.masked_id_number(record["id_number"])
                       if len(record.get("id_number", "")) == 18 else record.get("id_number"),
                       "fields": problems})
        return 0
    known.add(values["id_number"])
    session.add(Household(**values))
    return 1


def _row_values(record: dict, by_code: dict, by_name: dict) -> tuple[dict, dict]:
    problems, values = {}, {}
    for name in REQUIRED:
        if not record.get(name):
            problems[name] = "必填项"
    if record.get("id_number"):
        number = ids.normalise(record["id_number"])
        if problem := ids.id_number_problem(number):
            problems["id_number"] = problem
        values["id_number"], values["id_tail"] = number, number[-4:]
    village = record.get("village", "")
    if village:
        codes = [by_code[village]] if village in by_code else by_name.get(village, [])
        if len(codes) == 1:
            values["village_code"] = codes[0]
        elif len(codes) > 1:
            problems["village"] = f"村名“{village}”不唯一，请填写12位村代码"
        else:
            problems["village"] = f"未知的村或不在您的管辖范围内：{village}"
    values["name"] = record.get("name", "")
    category = record.get("category") or "ordinary"
    # Several categories in one cell: the household counts once, under the first by priority.
    labels = [c.strip() for c in category.replace("，", "、").replace(",", "、").split("、")]
    found = [CATEGORY_BY_LABEL.get(c, c) for c in labels if c]
    if any(c not in CATEGORIES for c in found):
        problems["category"] = f"未知的重点对象类别：{category}"
    else:  # every identity kept; the household counts once, under the first by priority
        values["identities"] = sorted({c for c in found if c != "ordinary"},
                                      key=list(CATEGORIES).index)
        values["category"] = primary_category(values["identities"])
    for name in NUMBER_BOUNDS:
        if record.get(name):
            try:
                values[name] = parse_number(name, record[name])
            except ValueError as problem:
                problems[name] = str(problem)
    if record.get("structure_type"):
        if record["structure_type"] not in STRUCTURE_TYPES:
            problems["structure_type"] = "未知的结构类型"
        values["structure_type"] = record["structure_type"]
    for name in ("group_name", "phone", "address"):
        if record.get(name):
            values[name] = record[name]
    problems.update({name: inputs.UNSAFE_MESSAGE for name, cell in record.items()
                     if inputs.has_unsafe(cell)})
    return values, problems
