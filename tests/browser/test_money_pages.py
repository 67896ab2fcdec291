"""The money pages in real headless Chromium at 360×800 and at 1366×900: a case's 补助资金
section (the policy check, the approved split, what is due, the payments) and the county's
补助拨付 page, whose wide tables scroll inside their own box, never the page; then 财政
records a payment through the form with its voucher, and the case is 补助已拨付.
Screenshots: /tmp/money_{case,payments}-{360,1366}.png, /tmp/money_{form,paid}-360.png.
"""

import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from backend.extensions import db, object_store
from backend.models.base import china_today
from backend.services import attachments
from backend.services.policy import Actor
from backend.services.subsidies import funding, payments
from tests import factories
from tests.browser.conftest import browser_app, no_sideways_scroll, serving, sign_in

pytestmark = pytest.mark.browser
TODAY = china_today()
PDF = b"%PDF-1.4\n% voucher\n%%EOF\n"
SHOTS = Path("/tmp")


def funded(session, w, household, town: Actor):
    """A case the county accepted on 2026-03-10 (now overdue), its subsidy split in two."""
    case = factories.case(session, household, status="accepted")
    funding.set_funding(session, town, case.id, funding.FundingInput(
        central=Decimal("14000"), provincial=Decimal("4000"), below_provincial=Decimal("2000"),
        planned_area_m2=Decimal("72"), estimated_cost_yuan=Decimal("65000"),
        own_funds_yuan=Decimal("30000")))
    case.area_after_m2, case.cost_yuan = Decimal("72"), Decimal("66500")  # as built
    session.commit()
    return case


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = browser_app(tmp_path_factory.mktemp("money-live"))
    with app.app_context():
        w = factories.world(db.session)
        town = Actor.of(w.users["town_reviewer"])
        shown = funded(db.session, w, w.households[w.village_a1], town)
        voucher, _ = attachments.store_attachment(
            db.session, object_store(), town, str(uuid.uuid4()), PDF, case_id=shown.id,
            kind="payment_voucher", filename="岱岳镇拨付凭证第0031号.pdf", max_bytes=1 << 20)
        payments.record_payment(db.session, town, shown.id, payments.PaymentInput(
            id=str(uuid.uuid4()), tranche="full", fund_level="central",
            amount_yuan=Decimal("14000"), paid_on=TODAY, voucher_id=voucher.id,
            payee_account="6228480012345678901", batch_no="岱岳镇拨〔2026〕31号"), TODAY)
        to_pay = funded(db.session, w, w.households[w.village_a2], town)
        ids = {"shown": shown.id, "to_pay": to_pay.id}
        db.session.remove()
    with serving(app) as url:
        yield {"url": url, **ids}


def shot(page, name: str, section: str | None = None):
    """The whole page, or one section of it (the case page is long with its photos)."""
    path = str(SHOTS / f"money_{name}.png")
    if section:
        page.locator(section).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)


@pytest.mark.parametrize("size", [(360, 800), (1366, 900)])
def test_the_money_section_and_the_payments_page_fit(site, page_for, size):
    url, width = site["url"], size[0]
    page = page_for(*size)
    sign_in(page, url, "finance")
    page.goto(f"{url}/review/cases/{site['shown']}#money")
    money = page.locator("#money")
    assert "核定 20,000.00 元 · 已拨付 14,000.00 元" in money.locator("h2").inner_text()
    rule = money.locator("tr[data-rule=household_area_cap]")
    assert "超出原则，需说明理由" in rule.inner_text() and "003 §五(二)" in rule.inner_text()
    assert "6228480012345678901" in money.locator("table.payments").inner_text()
    assert money.locator("tr.late").count() == 1  # the rest of the subsidy is overdue
    no_sideways_scroll(page)
    shot(page, f"case-{width}", "#money")

    page.goto(f"{url}/review/payments")
    assert page.locator("h1", has_text="补助拨付").count() == 1
    assert page.locator("table.dues tbody tr").count() == 2
    assert page.locator("table.dues tr.late").count() == 2
    no_sideways_scroll(page)
    shot(page, f"payments-{width}")
    assert not page.errors


def test_finance_records_a_payment_through_the_form(site, page_for, tmp_path):
    url = site["url"]
    page = page_for(360, 800)
    sign_in(page, url, "finance")
    page.goto(f"{url}/review/cases/{site['to_pay']}#money")
    voucher = tmp_path / "拨付凭证.pdf"
    voucher.write_bytes(PDF + b"paid")
    for level, amount in (("central", "14000"), ("provincial", "4000"),
                          ("below_provincial", "2000")):
        form = page.locator("details.action", has=page.locator("summary", has_text="登记拨付"))
        if not form.evaluate("details => details.open"):
            form.locator("summary").click()
        form.locator("select[name=fund_level]").select_option(level)
        form.locator("input[name=amount_yuan]").fill(amount)
        form.locator("input[name=payee_account]").fill("6228480099998888")
        form.locator("input[name=voucher]").set_input_files(str(voucher))
        if level == "central":
            no_sideways_scroll(page)
            shot(page, "form-360", "#money details.action")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert not page.locator("#money-error").count(), page.locator("#money-error").inner_text()
        assert "已登记拨付" in page.locator(".notice").inner_text()
    assert "补助已拨付" in page.locator("#workflow-h").inner_text()
    assert page.locator("#money table.payments tbody tr").count() == 3
    assert "登记拨付" not in page.locator("#money").inner_text()
    no_sideways_scroll(page)
    shot(page, "paid-360", "#money")
    assert not page.errors
