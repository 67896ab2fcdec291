"""Random spot checks (随机抽查): draw households of an area and year for checking on site, open
the round that visits them, read the draws, and verify a draw against today's archive.

003 山阴 §七(三): 农户档案信息检索系统…是国家考核各地工作绩效的主要手段，每年不定期从…系统中
随机抽取农户进行实地复核. The archive is kept one household per approval (批准一户，分户归档一户)
and holds its photos before, during and after the works (改造前、中、后照片); checks come at
any time of the year (不定期). So the population is every household of the area whose case of
that year is past approval and still in the programme, under works or finished: not only the
accepted ones, which would leave every house still being built out of a mid-year check.

The server makes the seed and stores it with the draw in the same commit that stores the
sample, so no one sees a sample before its seed is kept; one draw per area, year and purpose.
"""

import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.models import Case, Household, Region, SpotCheck
from backend.services import audit, policy
from backend.services.errors import InvalidInput, OutsideScope, SpotCheckDrawn
from backend.services.policy import Actor
from backend.services.reports.tasks import FIRST_YEAR, LAST_YEAR
from backend.services.rounds.lifecycle import RoundSpec, start_round
from backend.services.spot_checks import sampling
from backend.vocabulary import EXIT_STATUSES, STATUSES

# Stages of a case in the archive: every stage after approval (批准), in the procedure's order,
# but those where it left the programme (rejected, cancelled, deferred).
ARCHIVED_STATUSES = tuple(s for s in list(STATUSES)[list(STATUSES).index("approval") + 1:]
                          if s not in EXIT_STATUSES)
MAX_COUNT = 10_000
DAYS_TO_CHECK = 30  # the round's default due day, counted from the draw


@dataclass(frozen=True)
class DrawSpec:
    area_code: str  # a county or a town
    year: int
    purpose: str
    count: int | None = None
    percent: Decimal | None = None  # 0 < percent ≤ 100
    due_on: date | None = None  # the spot-check round's; default 30 days on


@dataclass(frozen=True)
class SampleRow:
    """A household of the sample as the checkers read it, in the order drawn."""

    number: int  # 序号
    household: Household
    town_name: str
    village_name: str
    case: Case | None  # its case of the draw's year


@dataclass(frozen=True)
class TownShare:
    town_code: str
    town_name: str
    population: int
    drawn: int


@dataclass(frozen=True)
class Verification:
    """A draw made again from its stored seed: over the stored population (`reproduced`) and
    over today's archive (`matches`), with what changed in the population since."""

    check: SpotCheck
    reproduced: bool
    matches: bool
    population_unchanged: bool
    population_size: int
    population_sha256: str
    sample: list[int]
    added: list[int]
    removed: list[int]


def new_seed() -> str:
    return secrets.token_hex(8)


def normalise_purpose(text: str) -> str:
    """The purpose as compared: full-width forms folded (NFKC) and spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def draw(session, actor: Actor, spec: DrawSpec, today: date, *,
         make_seed: Callable[[], str] = new_seed) -> SpotCheck:
    """Draw the sample, store it with its seed, open its round, audit it; commit once."""
    actor.require(policy.SPOT_CHECK_DRAW)
    area = _area(session, actor, spec.area_code)
    purpose = _check(spec)
    earlier = _existing(session, area.code, spec.year, purpose)
    if earlier is not None:
        raise SpotCheckDrawn(spot_check_id=earlier)
    population = population_of(session, area, spec.year)
    total = sum(len(ids) for ids in population.values())
    if not total:
        raise InvalidInput(fields={"year": f"{area.name}{spec.year}年度没有已批准的改造户可抽取"})
    size = sampling.size_for(total, count=spec.count, percent=spec.percent)
    seed = make_seed()
    allocation, sample = sampling.draw(population, size, seed)
    rnd = start_round(session, actor, RoundSpec(
        kind="spot_check", name=f"{spec.year}年随机抽查：{purpose}"[:100], starts_on=today,
        due_on=spec.due_on or today + timedelta(days=DAYS_TO_CHECK), area_codes=[area.code],
        categories=[], period=str(spec.year), cause=purpose, household_ids=tuple(sample)))
    check = SpotCheck(area_code=area.code, year=spec.year, purpose=purpose,
                      requested_count=spec.count, requested_percent=spec.percent, size=size,
                      seed=seed, population_size=total,
                      population_sha256=sampling.fingerprint(population),
                      population=population, allocation=allocation, sample=sample,
                      round_id=rnd.id, drawn_by=actor.user_id)
    session.add(check)
    try:
        session.flush()
    except IntegrityError as error:  # the same purpose drawn at the same moment
        session.rollback()
        raise SpotCheckDrawn() from error
    audit.record(session, actor, "draw", "spot_check", check.id, {
        "area_code": area.code, "year": spec.year, "purpose": purpose, "seed": seed,
        "population_size": total, "population_sha256": check.population_sha256,
        "size": size, "sample": sample, "round_id": rnd.id})
    session.commit()
    return check


def population_of(session, area: Region, year: int) -> dict[str, list[int]]:
    """Town code → ids of the area's households with an archived case of the year."""
    rows = session.execute(
        select(Household.id, Household.village_code)
        .join(Case, Case.household_id == Household.id)
        .where(Case.year == year, Case.status.in_(ARCHIVED_STATUSES),
               Household.village_code.between(*area.range))
        .order_by(Household.id)).all()
    population: dict[str, list[int]] = {}
    for household_id, village in rows:
        population.setdefault(village[:9] + "000", []).append(household_id)
    return population


def get_draw(session, actor: Actor, check_id: int) -> SpotCheck:
    """A draw, for a reader whose area holds the draw's whole area."""
    actor.require(policy.SPOT_CHECK_READ)
    if not 0 < check_id < 2**31:
        raise OutsideScope()
    check = session.get(SpotCheck, check_id)
    if check is None or not actor.covers(check.area_code):
        raise OutsideScope()
    return check


def list_draws(session, actor: Actor, *, area_code: str | None = None,
               year: int | None = None) -> list[SpotCheck]:
    """The draws inside my area (or inside `area_code`), newest first."""
    actor.require(policy.SPOT_CHECK_READ)
    stmt = select(SpotCheck).where(policy.in_scope(actor, SpotCheck.area_code))
    if area_code is not None:
        if not actor.covers(area_code):
            raise OutsideScope()
        area = session.get(Region, area_code)
        if area is None:
            raise OutsideScope()
        stmt = stmt.where(SpotCheck.area_code.between(*area.range))
    if year is not None:
        stmt = stmt.where(SpotCheck.year == year)
    return list(session.scalars(stmt.order_by(SpotCheck.drawn_at.desc(), SpotCheck.id.desc())))


def sample_rows(session, check: SpotCheck) -> list[SampleRow]:
    """The sample's households with their town, village and case of the year (2 queries)."""
    rows = session.execute(
        select(Household, Case)
        .outerjoin(Case, (Case.household_id == Household.id) & (Case.year == check.year))
        .where(Household.id.in_(check.sample))).all()
    found = {household.id: (household, case) for household, case in rows}
    codes = {h.village_code for h, _ in found.values()}
    codes |= {c[:9] + "000" for c in codes}
    names = dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
                 .all()) if codes else {}
    return [SampleRow(number=n, household=found[hid][0], case=found[hid][1],
                      town_name=names.get(found[hid][0].village_code[:9] + "000", ""),
                      village_name=names.get(found[hid][0].village_code, ""))
            for n, hid in enumerate(check.sample, start=1) if hid in found]


def town_shares(session, check: SpotCheck) -> list[TownShare]:
    """Each town's households in the population and in the sample, in code order."""
    codes = sorted(check.allocation)
    names = dict(session.execute(select(Region.code, Region.name).where(
        Region.code.in_(codes))).all()) if codes else {}
    return [TownShare(code, names.get(code, ""), len(check.population.get(code, [])),
                      check.allocation[code]) for code in codes]


def verify(session, actor: Actor, check_id: int) -> Verification:
    """Draw again from the stored seed, over the stored and over today's population."""
    check = get_draw(session, actor, check_id)
    _, again = sampling.draw(check.population, check.size, check.seed)
    now = population_of(session, session.get(Region, check.area_code), check.year)
    _, sample = sampling.draw(now, check.size, check.seed)
    stored = {hid for ids in check.population.values() for hid in ids}
    current = {hid for ids in now.values() for hid in ids}
    sha = sampling.fingerprint(now)
    return Verification(check=check, reproduced=again == check.sample,
                        matches=sample == check.sample,
                        population_unchanged=sha == check.population_sha256,
                        population_size=len(current), population_sha256=sha, sample=sample,
                        added=sorted(current - stored), removed=sorted(stored - current))


def _area(session, actor: Actor, code: str) -> Region:
    area = session.get(Region, code) if isinstance(code, str) else None
    if area is None or not actor.covers(area.code):
        raise OutsideScope()
    if area.level not in ("county", "town"):
        raise InvalidInput(fields={"area_code": "抽查范围应为县或乡镇"})
    return area


def _check(spec: DrawSpec) -> str:
    """The purpose as stored; every bound refused with its field."""
    problems = {}
    purpose = normalise_purpose(spec.purpose)
    if not 0 < len(purpose) <= 100:
        problems["purpose"] = "请填写抽查目的（不超过 100 字）"
    if not FIRST_YEAR <= spec.year <= LAST_YEAR:
        problems["year"] = f"年度应在 {FIRST_YEAR}—{LAST_YEAR} 之间"
    if (spec.count is None) == (spec.percent is None):
        problems["count"] = "请填写抽取户数或抽取比例（二选一）"
    elif spec.count is not None and not 1 <= spec.count <= MAX_COUNT:
        problems["count"] = f"抽取户数应在 1—{MAX_COUNT} 之间"
    elif spec.percent is not None and not (0 < spec.percent <= 100
                                           and spec.percent.as_tuple().exponent >= -2):
        problems["percent"] = "抽取比例应大于 0 且不超过 100，最多两位小数"
    if problems:
        raise InvalidInput(fields=problems)
    return purpose


def _existing(session, area_code: str, year: int, purpose: str) -> int | None:
    return session.scalar(select(SpotCheck.id).where(
        SpotCheck.area_code == area_code, SpotCheck.year == year, SpotCheck.purpose == purpose))
