"""The 进度报表 page in headless Chromium at 360×800 and 1366×900: the seed's 27-column form
with its merged header scrolls inside its own box, never the page.
Screenshots: /tmp/report_monthly-{360,1366}.png.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backend.extensions import db
from tests import factories
from tests.browser.conftest import browser_app, no_sideways_scroll, serving, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = browser_app(tmp_path_factory.mktemp("reports-live"))
    with app.app_context():
        w = factories.world(db.session)
        for i, (village, category) in enumerate([(w.village_a1, "dibao"),
                                                 (w.village_a2, "tekun"),
                                                 (w.village_b1, "lifted_supported")]):
            h = factories.household(db.session, village, name=f"报表户{i}", category=category,
                                    identities=[category])
            case = factories.case(db.session, h, status="completed")
            case.started_on, case.completed_on = date(2026, 9, 1), date(2026, 11, 2)
            case.subsidy_yuan = case.subsidy_central_yuan = Decimal("14000.00")
        db.session.commit()
        db.session.remove()
    with serving(app) as url:
        yield url


@pytest.mark.parametrize("size", [(360, 800), (1366, 900)])
def test_the_monthly_form_fits(site, page_for, size):
    page = page_for(*size)
    sign_in(page, site, "county_admin")
    page.goto(f"{site}/review/reports?month=2026-11")
    assert "山阴县 2026 年 11 月农村危房改造进度报表" in page.locator("#report-h").inner_text()
    assert page.locator("table.form-report tbody tr").count() == 3  # two towns and the total
    total = page.locator("table.form-report tr.total").inner_text()
    assert "山阴县合计" in total and "4.2000" in total
    no_sideways_scroll(page)
    page.screenshot(path=str(Path("/tmp") / f"report_monthly-{size[0]}.png"), full_page=True)
    assert not page.errors
