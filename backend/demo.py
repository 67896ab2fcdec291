"""A realistic demo county for trying the system: 山阴县 with two towns and six villages.

Names, ID numbers and phone numbers are generated; the ID numbers carry valid check digits.
"""

import random
import secrets
import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from backend.demo_money import seed_money
from backend.demo_reports import seed_reports
from backend.models import Appraisal, Case, Household, Region, User
from backend.rules import current_rules
from backend.services import attachments
from backend.services.ids import check_char
from backend.services.policy import Actor
from backend.services.rounds.lifecycle import RoundSpec, open_round
from backend.services.workflow.engine import ActionInput, perform, place_at
from backend.vocabulary import ATTACHMENT_KINDS, STATUS_PHASES, STRUCTURE_TYPES, TARGET_CATEGORIES

COUNTY = ("140621000000", "山阴县")
TOWNS = {
    ("140621100000", "岱岳镇"): [("140621100201", "东坪村", 39.527, 112.816),
                                ("140621100202", "西坪村", 39.521, 112.795),
                                ("140621100203", "南梁村", 39.503, 112.830)],
    ("140621101000", "玉井镇"): [("140621101201", "玉井村", 39.447, 112.905),
                                ("140621101202", "北辛庄村", 39.468, 112.921),
                                ("140621101203", "下喇叭村", 39.431, 112.887)],
}
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋"
            "郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = ("建国秀英桂兰玉珍志强海军淑芬俊峰丽华红梅"
         "永福长青金山福贵凤英保国文明德胜春花树林二虎润生爱莲")
CATEGORY_WEIGHTS = {
    "lifted_supported": 12, "lifted_unstable": 3, "edge_at_risk": 4, "dibao": 10, "tekun": 3,
    "severe_hardship": 2, "dibao_edge": 4, "other_lifted": 6, "ordinary": 56,
}
CASE_PLAN = [  # (method, stage) for the demo cases: every stage of 山阴's procedure has one
    ("拆除重建", "application"), ("修缮加固", "village_review"), ("拆除重建", "village_publicity"),
    ("修缮加固", "town_review"), ("拆除重建", "town_publicity"), ("拆除重建", "department_check"),
    ("修缮加固", "approval"), ("拆除重建", "town_accepted"),
    ("拆除重建", "planned"), ("拆除重建", "agreement_signed"), ("拆除重建", "in_progress"),
    ("修缮加固", "in_progress"), ("修缮加固", "completed"), ("拆除重建", "accepted"),
    ("修缮加固", "paid"), ("选址新建", "in_progress"), ("抗震改造", "planned"),
    ("修缮加固", "accepted"),
]
USERS = [  # (role, username, name, region)
    ("county_admin", "admin", "县住建局管理员", COUNTY[0]),
    ("town_reviewer", "daiyue_rev", "岱岳镇审核员", "140621100000"),
    ("inspector", "inspector", "岱岳镇检查员", "140621100000"),
    ("village_cadre", "dongping", "东坪村村干部", "140621100201"),
    ("auditor", "auditor", "县级核查员", COUNTY[0]),
    ("finance", "caizheng", "县财政局", COUNTY[0]),
    ("department", "minzheng", "县民政局核查员", COUNTY[0]),  # 民政 (civil_affairs)
]
DEMO_PDF = b"%PDF-1.4\n% demo document\n%%EOF\n"
# 003 §四(五)2: the appraisal report signed by at least three and filed by the county.
SIGNERS = [{"role": "民主监督员", "name": "张守义"}, {"role": "村委负责人", "name": "李福贵"},
           {"role": "乡镇负责人", "name": "王志强"}]


def fake_id_number(rng: random.Random, born: date, sex: str) -> str:
    seq = rng.randrange(0, 999)
    seq = seq - seq % 2 + (1 if sex == "m" else 0)
    body = f"140621{born:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def seed(session, *, households: int = 300, hash_method: str = "scrypt", seed_value: int = 2026,
         store=None):
    """Create the demo county; return [(role, username, password)] for the demo users.

    With a photo store, the procedure's harder moments are staged too (an open objection, a
    department that has not replied, one passed by silence, an overdue town review), so a
    newcomer meets them on the 待办 page.
    """
    rng = random.Random(seed_value)
    villages = _regions(session)
    users, logins = _users(session, hash_method)
    made = _households(session, rng, villages, households)
    targets = [h for h in made if h.category != "ordinary"]
    _cases(session, rng, targets)
    session.commit()
    _open_quarter_round(session, users["town_reviewer"])
    if store is not None:
        with_case = set(session.scalars(select(Case.household_id)))
        procedure_examples(session, store, users, [h for h in targets if h.id not in with_case])
        with_case = set(session.scalars(select(Case.household_id)))
        free = [h for h in targets if h.id not in with_case
                and h.village_code.startswith(users["town_reviewer"].regions[0].code[:9])]
        logins += seed_money(session, store, users, free, rng, hash_method)
    seed_reports(session, users["county_admin"])
    return logins


def _regions(session) -> list[tuple[str, str, float, float]]:
    """The province, city, county, towns and villages; return (code, name, lat, lon) a village."""
    session.add_all([
        Region(code="140000000000", name="山西省", level="province"),
        Region(code="140600000000", name="朔州市", level="prefecture", parent_code="140000000000"),
        Region(code=COUNTY[0], name=COUNTY[1], level="county", parent_code="140600000000"),
    ])
    villages = []
    for (town_code, town_name), town_villages in TOWNS.items():
        session.add(Region(code=town_code, name=town_name, level="town", parent_code=COUNTY[0]))
        for code, name, lat, lon in town_villages:
            session.add(Region(code=code, name=name, level="village", parent_code=town_code))
            villages.append((code, name, lat, lon))
    session.flush()
    return villages


def _users(session, hash_method: str) -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    logins = []
    users = {}
    for role, username, name, region in USERS:
        password = secrets.token_urlsafe(9)
        users[role] = User(username=username, name=name, role=role,
                           password_hash=generate_password_hash(password, method=hash_method),
                           regions=[session.get(Region, region)],
                           department="civil_affairs" if role == "department" else None)
        session.add(users[role])
        logins.append((role, username, password))
    return users, logins


def _households(session, rng: random.Random, villages, count: int) -> list[Household]:
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    made = []
    used_ids = set()
    for i in range(count):
        code, vname, lat, lon = villages[i % len(villages)]
        sex = rng.choice("mf")
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
        id_number = fake_id_number(rng, born, sex)
        while id_number in used_ids:
            id_number = fake_id_number(rng, born, sex)
        used_ids.add(id_number)
        located = rng.random() < 0.6
        household = Household(
            village_code=code, group_name=f"{rng.randint(1, 6)}组",
            name=rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2]),
            id_number=id_number, id_tail=id_number[-4:],
            phone="1" + rng.choice("3578") + "".join(rng.choices("0123456789", k=9)),
            family_size=rng.randint(1, 6),
            category=rng.choices(categories, weights)[0],
            address=f"山西省朔州市山阴县{vname}{rng.randint(1, 200)}号",
            lat=lat + rng.uniform(-0.004, 0.004) if located else None,
            lon=lon + rng.uniform(-0.005, 0.005) if located else None,
            location_source="import" if located else None,
            year_built=rng.randint(1965, 2005),
            floor_area_m2=round(rng.uniform(35, 110), 1),
            rooms=rng.randint(2, 5), storeys=1,
            structure_type=rng.choice(STRUCTURE_TYPES[:5]),
        )
        if household.category in ("dibao", "tekun") and rng.random() < 0.3:
            # 民政 certified it too; 乡村振兴 had it first: counted once, under 脱贫享受政策户
            household.identities = ["lifted_supported", household.category]
            household.category = "lifted_supported"
        session.add(household)
        made.append(household)
    session.flush()
    return made


def _cases(session, rng: random.Random, targets: list[Household]) -> None:
    """One case per CASE_PLAN entry, appraised and moved along to its planned status."""
    year = date.today().year
    for (method, status), household in zip(CASE_PLAN, rng.sample(targets, len(CASE_PLAN)),
                                           strict=False):
        appraised = date.today() - timedelta(days=rng.randint(60, 200))
        appraisal = Appraisal(household=household, grade="D" if "重建" in method or "新建" in method
                              else "C", appraised_on=appraised, appraiser="山阴县房屋鉴定站",
                              notes="承重墙体多处裂缝，屋面漏雨", signatures=SIGNERS,
                              filed_on=appraised + timedelta(days=5))
        session.add(appraisal)
        case = Case(household=household, village_code=household.village_code, year=year,
                    method=method, build_mode="自建", appraisal=appraisal,
                    **_funding(Decimal(25232 if method != "修缮加固" else 15000)))
        session.add(case)
        session.flush()
        works_begun = STATUS_PHASES[status] != "before" or status == "agreement_signed"
        day = min(appraised + timedelta(days=rng.randint(40, 120)), date.today()) \
            if works_begun else date.today() - timedelta(days=rng.randint(1, 5))
        place_at(session, case, status, day, photo_rules=current_rules().photos,
                 note="演示数据：此前环节系统外办理")


def _funding(subsidy: Decimal) -> dict:
    """The approved plan of a demo case: 山阴's key groups are paid from central funds
    (003 §五(六)); 50 m² for a family of three or four passes every 山阴 area rule."""
    return {"subsidy_yuan": subsidy, "subsidy_central_yuan": subsidy,
            "planned_area_m2": Decimal("50.00")}


def procedure_examples(session, store, users: dict[str, User], free: list[Household]) -> None:
    """Cases at the procedure's awkward moments, made through the engine's own actions."""
    today = date.today()
    cadre_village = [h for h in free if h.village_code == users["village_cadre"].regions[0].code]
    town = [h for h in free if h.village_code.startswith("140621100")
            and h is not cadre_village[0]]
    actor = {role: Actor.of(user) for role, user in users.items()}

    def case_at(household: Household, stage: str, entered: date) -> Case:
        case = Case(household=household, village_code=household.village_code, year=today.year,
                    method="拆除重建", build_mode="自建", **_funding(Decimal(25232)),
                    application={"applicant": household.name, "reason": "房屋主体开裂"})
        session.add(case)
        session.flush()
        place_at(session, case, stage, entered, photo_rules=current_rules().photos,
                 note="演示数据：此前环节系统外办理")
        session.commit()
        return case

    def document(case: Case, kind: str, who: str) -> str:
        attachment, _ = attachments.store_attachment(
            session, store, actor[who], str(uuid.uuid4()), DEMO_PDF + kind.encode(),
            case_id=case.id, kind=kind, filename=f"{ATTACHMENT_KINDS[kind]}.pdf",
            max_bytes=1 << 20)
        return attachment.id

    # 村公示 posted three days ago, with an objection still open.
    disputed = case_at(cadre_village[0], "village_publicity", today - timedelta(days=3))
    perform(session, actor["village_cadre"], disputed.id, ActionInput(
        "post", report_phone="0349-7021234", effective_on=today - timedelta(days=3),
        notice_attachment_id=document(disputed, "publicity_photo", "village_cadre")), today,
        photo_rules=current_rules().photos)
    perform(session, actor["village_cadre"], disputed.id, ActionInput(
        "record_objection", reporter="村民（匿名）", content="反映该户子女在县城有商品房",
        effective_on=today - timedelta(days=1)), today, photo_rules=current_rules().photos)
    # 部门比对: sent a month ago, nobody replied (passed by silence when first read) …
    case_at(town[0], "department_check", today - timedelta(days=30))
    # … and sent three days ago: 民政 replied, the rest have not.
    waiting = case_at(town[1], "department_check", today - timedelta(days=3))
    perform(session, actor["department"], waiting.id, ActionInput(
        "record_reply", department="civil_affairs", result="passed",
        attachment_ids=[document(waiting, "department_reply", "department")]), today,
        photo_rules=current_rules().photos)
    # 乡镇审核 received twelve days ago: past its 7 working days.
    case_at(town[2], "town_review", today - timedelta(days=12))
    # Found C/D by an appraisal, no case yet (发现一户、建档一户).
    session.add(Appraisal(household=town[3], grade="D", appraised_on=today - timedelta(days=6),
                          appraiser="山阴县房屋鉴定站", notes="墙体严重开裂，屋架下沉",
                          signatures=SIGNERS))
    session.commit()


def _open_quarter_round(session, reviewer: User) -> None:
    """This quarter's routine survey (常规排查) of the reviewer's town, every target household."""
    today = date.today()
    quarter = (today.month - 1) // 3 + 1
    starts = date(today.year, 3 * quarter - 2, 1)
    ends = date(today.year + quarter // 4, 3 * quarter % 12 + 1, 1) - timedelta(days=1)
    open_round(session, Actor.of(reviewer), RoundSpec(
        kind="routine", name=f"{today.year}年第{'一二三四'[quarter - 1]}季度常规排查",
        period=f"{today.year}Q{quarter}", starts_on=starts, due_on=ends,
        area_codes=[region.code for region in reviewer.regions],
        categories=list(TARGET_CATEGORIES)))
