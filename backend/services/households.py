"""Households: search, registration, edits, house location and appraisals."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, column, func, select, table, text, true, update
from sqlalchemy.orm import aliased

from backend import display
from backend.models import Appraisal, Case, Household, Region
from backend.models.base import utc_now
from backend.models.region import code_range
from backend.models.search import SQLITE_NAME_INDEX
from backend.services import audit, ids, photos, policy
from backend.services.errors import DuplicateHousehold, InvalidInput
from backend.services.pagination import page
from backend.services.photos.checks import PhotoRules
from backend.services.policy import Actor
from backend.vocabulary import CATEGORIES, GRADES, STRUCTURE_TYPES, TARGET_CATEGORIES

SORT = [Household.village_code, Household.name, Household.id]
# The household's numbers and their plausible bounds: one rule for the API and the import.
NUMBER_BOUNDS = {"family_size": (1, 30), "year_built": (1800, 2100), "rooms": (0, 100),
                 "storeys": (1, 10), "floor_area_m2": (1, 10000)}
WHOLE_NUMBERS = ("family_size", "year_built", "rooms", "storeys")
PREFIX_PROBE = 500  # fewer names than this beginning with a query: read them by name


def parse_number(name: str, text: str) -> int | float:
    """A number typed in a ledger cell, within its bounds; ValueError says what is wrong."""
    try:
        number = float(text)
    except (ValueError, OverflowError):
        raise ValueError("应为数字") from None
    low, high = NUMBER_BOUNDS[name]
    if not low <= number <= high:  # NaN fails every comparison, infinity the upper bound
        raise ValueError(f"应在 {low}—{high} 之间")
    if name in WHOLE_NUMBERS:
        if not number.is_integer():
            raise ValueError("应为整数")
        return int(number)
    return number


@dataclass(frozen=True)
class HouseholdQuery:
    q: str | None = None
    region: str | None = None
    category: str | None = None
    cursor: str | None = None
    limit: int = 50


def search_clause(session, q: str):
    """Match a query against a whole ID number, an ID-number tail or the head's name, each
    through an index: the number's unique index; `id_tail` for four characters, `id_tail6` for
    five or six; a name of one or two characters by prefix (a surname, a short name), of three
    or more as a substring through the trigram index (pg_trgm, or SQLite's FTS5 table)."""
    q = q.strip()
    upper = q.upper()
    if len(upper) == 18 and ids.id_number_problem(upper) is None:
        return Household.id_number == upper
    if 4 <= len(upper) <= 6 and upper[:-1].isdigit() and (upper[-1].isdigit() or upper[-1] == "X"):
        return _id_tail(upper)
    if not q:
        return true()
    sqlite = session.get_bind().dialect.name == "sqlite"
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(q) < 3:
        return _sqlite_prefix(session, q) if sqlite else Household.name.like(f"{escaped}%",
                                                                             escape="\\")
    contains = Household.name.like(f"%{escaped}%", escape="\\")
    if sqlite:
        phrase = '"' + q.replace('"', '""') + '"'
        fts = table(SQLITE_NAME_INDEX, column("rowid"))
        matches = select(fts.c.rowid).where(text(f"{SQLITE_NAME_INDEX} MATCH :phrase")
                                            .bindparams(phrase=phrase))
        return and_(Household.id.in_(matches), contains)  # FTS folds case; LIKE decides
    return contains


def _sqlite_prefix(session, q: str):
    """Names beginning with `q` (BINARY order is code-point order: a range on the name index).

    SQLite plans without knowing how many names match: a rare prefix is read through the name
    index and sorted, a common one (a surname) by walking the list in order until the page is
    full. One count of at most PREFIX_PROBE names decides which.
    """
    named = aliased(Household)
    within = and_(named.name >= q, named.name < q + "\U0010ffff")
    probe = select(named.id).where(within).limit(PREFIX_PROBE).subquery()
    if session.scalar(select(func.count()).select_from(probe)) < PREFIX_PROBE:
        return Household.id.in_(select(named.id).where(within))
    return and_(Household.name >= q, Household.name < q + "\U0010ffff")


def _id_tail(tail: str):
    if len(tail) == 4:
        return Household.id_tail == tail
    if len(tail) == 6:
        return Household.id_tail6 == tail
    # Five: the character before is the day of birth's second digit (GB 11643), always a digit.
    return Household.id_tail6.in_([digit + tail for digit in "0123456789"])


def list_households(session, actor: Actor, query: HouseholdQuery, *, cursor_key: bytes):
    """Return one page of the households in the actor's area and the next page's cursor."""
    area = policy.in_scope(actor, Household.village_code)
    if query.cursor and session.get_bind().dialect.name == "sqlite":
        # SQLite starts its index range at the area's lower bound rather than at the cursor's
        # row value, reading the area from its first village; likely() makes it seek from the
        # cursor and keep the area's upper bound.
        area = func.likely(area)
    stmt = select(Household).where(area)
    if query.q:
        stmt = stmt.where(search_clause(session, query.q))
    if query.region:
        region = _region_in_scope(session, actor, query.region, field="region")
        stmt = stmt.where(Household.village_code.between(*code_range(region.code, region.level)))
    if query.category:
        stmt = stmt.where(Household.category == query.category)
    return page(session, stmt, SORT, cursor=query.cursor, limit=query.limit, key=cursor_key)


def get_household(session, actor: Actor, household_id: int) -> Household:
    return policy.get_in_scope(session, Household, household_id, actor)


def validate_fields(session, actor: Actor, values: dict) -> dict:
    """Check and normalise household fields; raise InvalidInput naming every bad field."""
    problems = {}
    if "id_number" in values:
        values["id_number"] = ids.normalise(values["id_number"])
        if problem := ids.id_number_problem(values["id_number"]):
            problems["id_number"] = problem
    if "village_code" in values:
        region = session.get(Region, values["village_code"])
        if region is None or region.level != "village" or not actor.covers(region.code):
            problems["village_code"] = "村代码不存在或不在您的管辖范围内"
    problems.update(_identities(values))
    if values.get("structure_type") not in (None, *STRUCTURE_TYPES):
        problems["structure_type"] = "未知的结构类型"
    if problems:
        raise InvalidInput(fields=problems)
    return values


def require_identity(values: dict) -> dict:
    """A new household names its identity (or 一般农户): refuse it otherwise."""
    if "category" not in values and "identities" not in values:
        raise InvalidInput(fields={"category": "请选择重点对象类别（身份）"})
    return dict(values)


def primary_category(identities: list[str]) -> str:
    """The identity a household counts under: the first in the seeds' priority order
    (004 附件1 填表说明 2), or 一般农户 with none."""
    return min(identities, key=list(CATEGORIES).index) if identities else "ordinary"


def _identities(values: dict) -> dict:
    """Keep `identities` (every certified identity, in priority order) and `category` (the
    first of them) consistent, whichever of the two the caller gives."""
    if "identities" in values:
        given = values["identities"] or []
        if unknown := [i for i in given if i not in TARGET_CATEGORIES]:
            return {"identities": f"未知的重点对象身份：{'、'.join(map(str, unknown))}"}
        values["identities"] = sorted(set(given), key=list(CATEGORIES).index)
        derived = primary_category(values["identities"])
        if values.get("category", derived) != derived:
            return {"category": f"类别应为身份中优先的一项：{CATEGORIES[derived]}"}
        values["category"] = derived
    elif "category" in values:
        if values["category"] not in CATEGORIES:
            return {"category": "未知的重点对象类别"}
        values["identities"] = [] if values["category"] == "ordinary" else [values["category"]]
    return {}


def create_household(session, actor: Actor, values: dict) -> Household:
    actor.require(policy.HOUSEHOLD_WRITE)
    values = validate_fields(session, actor, require_identity(values))
    _refuse_duplicate(session, values["id_number"])
    household = Household(**values)
    session.add(household)
    session.flush()
    audit.record(session, actor, "create", "household", household.id, _loggable(values))
    session.commit()
    return household


def update_household(session, actor: Actor, household_id: int, values: dict) -> Household:
    actor.require(policy.HOUSEHOLD_WRITE)
    household = get_household(session, actor, household_id)
    values = dict(values)
    if "identities" not in values and values.get("category") == household.category:
        del values["category"]  # unchanged: the household keeps its other identities
    values = validate_fields(session, actor, values)
    if values.get("id_number", household.id_number) != household.id_number:
        _refuse_duplicate(session, values["id_number"])
    changes = audit.diff(household, values)
    if "village_code" in changes:
        follow_household(session, household)
    if changes:
        audit.record(session, actor, "update", "household", household.id, _loggable(changes))
    session.commit()
    return household


def follow_household(session, household: Household) -> None:
    """Every row scoped by area (a `village_code` copied for area checks) moves with its
    household, in the same transaction: the old town no longer reads it, the new one does.
    A model with a village code but neither a household nor a case is refused outright."""
    case_ids = select(Case.id).where(Case.household_id == household.id).scalar_subquery()
    for mapper in Household.registry.mappers:
        model, columns = mapper.class_, mapper.columns
        if model is Household or "village_code" not in columns:
            continue
        if "household_id" in columns:
            rows = model.household_id == household.id
        elif "case_id" in columns:
            rows = model.case_id.in_(case_ids)
        else:
            raise TypeError(f"{model.__name__} is scoped by area but tied to no household")
        session.execute(update(model).where(rows).values(village_code=household.village_code)
                        .execution_options(synchronize_session=False))
    session.expire_all()


def set_location(session, actor: Actor, household_id: int, lat: float, lon: float,
                 *, rules: PhotoRules) -> Household:
    """Record where the house stands (WGS-84), then recheck its photos' distances."""
    actor.require(policy.HOUSEHOLD_LOCATE)
    household = get_household(session, actor, household_id)
    changes = audit.diff(household, {"lat": lat, "lon": lon, "location_source": "inspector"})
    household.location_set_at = utc_now()
    household.location_set_by = actor.user_id
    audit.record(session, actor, "set_location", "household", household.id, changes)
    photos.recheck_household_photos(session, household, rules)
    session.commit()
    return household


def add_appraisal(session, actor: Actor, household_id: int, values: dict) -> Appraisal:
    actor.require(policy.APPRAISAL_WRITE)
    household = get_household(session, actor, household_id)
    appraisal = record_appraisal(session, actor, household, values)
    session.commit()
    return appraisal


def record_appraisal(session, actor: Actor, household: Household, values: dict,
                     *, visit_id: str | None = None) -> Appraisal:
    """Add an appraisal (grade, appraised_on, appraiser, notes) inside the caller's transaction.

    Shared by the desk form and the 鉴定 visit; the caller checks the rights and commits.
    """
    if values["grade"] not in GRADES:
        raise InvalidInput(fields={"grade": "鉴定等级应为 A、B、C 或 D"})
    appraisal = Appraisal(household=household, created_by=actor.user_id, **values)
    session.add(appraisal)
    session.flush()
    changes = {"household_id": household.id, "grade": values["grade"]}
    if visit_id is not None:
        changes["visit_id"] = visit_id
    audit.record(session, actor, "create", "appraisal", appraisal.id, changes)
    return appraisal


def update_appraisal(session, actor: Actor, appraisal_id: int, values: dict, *,
                     today: date) -> Appraisal:
    """Signatures of the paper report (003 §四(五)2: 民主监督员、村委负责人、乡镇负责人), and
    the county's filing (备案), which only the county records."""
    actor.require(policy.APPRAISAL_WRITE)
    appraisal = session.get(Appraisal, appraisal_id)
    if appraisal is None:
        raise policy.OutsideScope()
    get_household(session, actor, appraisal.household_id)  # 404 outside the caller's area
    if "filed_on" in values:
        actor.require(policy.APPRAISAL_FILE)
        if values["filed_on"] is not None and values["filed_on"] > today:
            raise InvalidInput(fields={"filed_on": "备案日期不能晚于今天"})
    changes = audit.diff(appraisal, values)
    for key, value in values.items():
        setattr(appraisal, key, value)
    audit.record(session, actor, "update", "appraisal", appraisal.id, changes)
    session.commit()
    return appraisal


def _refuse_duplicate(session, id_number: str) -> None:
    if session.scalar(select(Household.id).where(Household.id_number == id_number)):
        raise DuplicateHousehold(fields={"id_number": DuplicateHousehold.message})


def _region_in_scope(session, actor: Actor, code: str, *, field: str) -> Region:
    region = session.get(Region, code)
    if region is None or not (actor.covers(region.code) or _contains_scope(actor, region)):
        raise InvalidInput(fields={field: "区划代码不存在或不在您的管辖范围内"})
    return region


def _contains_scope(actor: Actor, region: Region) -> bool:
    """True when a filter region is wider than, but includes, some of the actor's area."""
    low, high = region.range
    return any(low <= a_low and a_high <= high for a_low, a_high in actor.ranges)


def _loggable(values: dict) -> dict:
    """Audit values as JSON, with ID numbers masked: the log must not become a PII copy."""
    out = {}
    for key, value in values.items():
        if key == "id_number":
            value = [display.masked_id_number(v) for v in value] if isinstance(value, list) \
                else display.masked_id_number(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out
