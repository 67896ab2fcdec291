"""The demo's money: a 山阴 approval whose area is below the per-person principle, with its
written justification; and a 郯城 village (004 pays in two tranches) with an advance paid, a
balance overdue and a subsidy being recovered after a failed rectification.

Made through the services' own functions, so the demo obeys the rules it shows.
"""

import random
import secrets
import uuid
from datetime import date, timedelta
from decimal import Decimal

from werkzeug.security import generate_password_hash

from backend.models import Appraisal, Case, Household, Region, User
from backend.rules import current_rules
from backend.services import attachments
from backend.services.ids import check_char
from backend.services.policy import Actor
from backend.services.subsidies import payments
from backend.services.subsidies.funding import FundingInput, set_funding
from backend.services.subsidies.payments import PaymentInput
from backend.services.workflow.engine import ActionInput, perform, place_at
from backend.vocabulary import ATTACHMENT_KINDS

TANCHENG = [("370000000000", "山东省", "province", None),
            ("371300000000", "临沂市", "prefecture", "370000000000"),
            ("371322000000", "郯城县", "county", "371300000000"),
            ("371322101000", "马头镇", "town", "371322000000"),
            ("371322101201", "马头村", "village", "371322101000")]
VILLAGE = TANCHENG[-1][0]
SIGNERS = [{"role": "民主监督员", "name": "徐德林"}, {"role": "村委负责人", "name": "高长青"},
           {"role": "乡镇负责人", "name": "孙保国"}]
PDF = b"%PDF-1.4\n% demo voucher\n%%EOF\n"
ACCOUNT = "6228480{:09d}"  # 一本通 numbers, generated


def seed_money(session, store, users: dict[str, User], free: list[Household],
               rng: random.Random, hash_method: str) -> list[tuple[str, str, str]]:
    """Stage the money examples; return the logins of the users added."""
    today = date.today()
    actor = {role: Actor.of(user) for role, user in users.items()}
    _justified_area(session, actor, free[0], today)
    logins, tancheng = _tancheng(session, users, hash_method)
    reviewer = Actor.of(tancheng)
    finance = Actor.of(users["finance"])  # re-read: the county was added to the area
    households = [_household(session, rng, name, size) for name, size in
                  (("徐春花", 3), ("高永福", 2), ("孙二虎", 4))]
    session.commit()

    def voucher(case: Case) -> str:
        attachment, _ = attachments.store_attachment(
            session, store, finance, str(uuid.uuid4()), PDF + str(case.id).encode(),
            case_id=case.id, kind="payment_voucher",
            filename=f"{ATTACHMENT_KINDS['payment_voucher']}.pdf", max_bytes=1 << 20)
        return attachment.id

    def paid(case: Case, who: Actor, tranche: str, amount: str, on: date, level="central"):
        payments.record_payment(session, who, case.id, PaymentInput(
            id=str(uuid.uuid4()), tranche=tranche, fund_level=level,
            amount_yuan=Decimal(amount), paid_on=on, voucher_id=voucher(case),
            payee_account=None if tranche == "recovery" else ACCOUNT.format(case.id)), today)

    # An advance of 50 % once works started (004 §四(三)).
    started = _tancheng_case(session, reviewer, households[0], "in_progress",
                             today - timedelta(days=25))
    paid(started, finance, "advance", "12500.00", today - timedelta(days=20))
    # Accepted 40 days ago, the balance not paid within 30 days: overdue.
    accepted = _tancheng_case(session, reviewer, households[1], "accepted",
                              today - timedelta(days=40), started=today - timedelta(days=130))
    paid(accepted, finance, "advance", "12500.00", today - timedelta(days=120))
    # Failed acceptance, rectification not done: the subsidy is cancelled and the advance is
    # being recovered by the town (003 §七(二)2).
    failed = _tancheng_case(session, reviewer, households[2], "in_progress",
                            today - timedelta(days=100))
    paid(failed, finance, "advance", "12500.00", today - timedelta(days=95))
    perform(session, reviewer, failed.id, ActionInput(
        "cancel", note="竣工验收不合格，限期整改期满仍未整改到位，取消补助资金"
                       "（003 §七(二)2）", effective_on=today - timedelta(days=10)), today,
        photo_rules=current_rules().photos)
    paid(failed, reviewer, "recovery", "5000.00", today - timedelta(days=3))
    session.commit()
    return logins


def _justified_area(session, actor: dict[str, Actor], household: Household, today: date
                    ) -> None:
    """山阴: four people in 48 m² is 12 m² each, under the 13 m² principle (003 §五(二)):
    approved with the town's written reason."""
    household.family_size = 4
    appraisal = Appraisal(household=household, grade="C", appraised_on=today - timedelta(40),
                          appraiser="山阴县房屋鉴定站", notes="后墙外闪，屋面局部塌陷",
                          signatures=SIGNERS, filed_on=today - timedelta(days=35))
    session.add(appraisal)
    case = Case(household=household, village_code=household.village_code, year=today.year,
                method="修缮加固", build_mode="自建", appraisal=appraisal,
                application={"applicant": household.name, "reason": "后墙外闪"})
    session.add(case)
    session.flush()
    place_at(session, case, "approval", today - timedelta(days=5),
             photo_rules=current_rules().photos, note="演示数据：此前环节系统外办理")
    session.commit()
    set_funding(session, actor["town_reviewer"], case.id, FundingInput(
        central=Decimal("14000.00"), provincial=Decimal("0"), below_provincial=Decimal("0"),
        planned_area_m2=Decimal("48.00"), estimated_cost_yuan=Decimal("21000.00"),
        own_funds_yuan=Decimal("7000.00")))
    perform(session, actor["town_reviewer"], case.id, ActionInput(
        "approve", note="核准修缮加固，补助 1.4 万元", justifications={
            "per_person_area_floor": "修缮加固保留原房屋，宅基地四至已满，无法扩建；"
                                     "经村民代表会议同意按现有 48 m² 修缮"}), today,
        photo_rules=current_rules().photos)


def _tancheng(session, users: dict[str, User], hash_method: str):
    for code, name, level, parent in TANCHENG:
        session.add(Region(code=code, name=name, level=level, parent_code=parent))
    session.flush()
    county = session.get(Region, TANCHENG[2][0])
    for role in ("county_admin", "finance", "auditor"):  # the demo's county users see both
        users[role].regions = [*users[role].regions, county]
    password = secrets.token_urlsafe(9)
    reviewer = User(username="matou_rev", name="马头镇审核员（郯城）", role="town_reviewer",
                    password_hash=generate_password_hash(password, method=hash_method),
                    regions=[session.get(Region, TANCHENG[3][0])])
    session.add(reviewer)
    session.commit()
    return [("town_reviewer", "matou_rev", password)], reviewer


def _household(session, rng: random.Random, name: str, size: int) -> Household:
    born = date(rng.randint(1950, 1975), rng.randint(1, 12), rng.randint(1, 28))
    body = f"371322{born:%Y%m%d}{rng.randrange(0, 999):03d}"
    number = body + check_char(body)
    household = Household(village_code=VILLAGE, name=name, id_number=number,
                          id_tail=number[-4:], category="lifted_supported", family_size=size,
                          phone=f"139{rng.randrange(100_000_000):08d}", address="马头镇马头村",
                          structure_type="土木", floor_area_m2=46.0)
    session.add(household)
    session.flush()
    return household


def _tancheng_case(session, reviewer: Actor, household: Household, stage: str, entered: date,
                   *, started: date | None = None) -> Case:
    appraisal = Appraisal(household=household, grade="D", appraised_on=entered - timedelta(150),
                          appraiser="郯城县房屋安全鉴定中心", notes="承重墙体严重开裂",
                          signatures=SIGNERS, filed_on=entered - timedelta(days=140))
    session.add(appraisal)
    case = Case(household=household, village_code=VILLAGE, year=entered.year,
                method="拆除重建", build_mode="自建", appraisal=appraisal,
                application={"applicant": household.name, "reason": "房屋整体危险"})
    session.add(case)
    session.flush()
    place_at(session, case, stage, entered, photo_rules=current_rules().photos,
             note="演示数据：此前环节系统外办理")
    case.started_on = started or case.started_on
    if stage == "accepted":
        case.area_after_m2, case.cost_yuan = Decimal("52.00"), Decimal("61000.00")
    session.commit()
    set_funding(session, reviewer, case.id, FundingInput(
        central=Decimal("14000.00"), provincial=Decimal("8000.00"),
        below_provincial=Decimal("3000.00"), planned_area_m2=Decimal("50.00"),
        estimated_cost_yuan=Decimal("60000.00"), loan_yuan=Decimal("20000.00"),
        own_funds_yuan=Decimal("15000.00")))
    return case
