"""The 排名通报 page in headless Chromium at 360×800 and 1366×900: the ranking, the weeks and
the task form's tables scroll inside their own boxes, never the page.
Screenshots: /tmp/ranking-{360,1366}.png.
"""

from datetime import timedelta
from pathlib import Path

import pytest

from backend.extensions import db
from backend.models.base import china_today
from backend.services.policy import Actor
from backend.services.reports import tasks
from tests import factories
from tests.browser.conftest import browser_app, no_sideways_scroll, serving, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = browser_app(tmp_path_factory.mktemp("ranking-live"))
    with app.app_context():
        w = factories.world(db.session)
        today = china_today()
        tasks.set_tasks(db.session, Actor.of(w.users["county_admin"]), today.year,
                        {w.town_a: 12, w.town_b: 9})
        for village, started, completed in ((w.village_a1, 7, 4), (w.village_b1, 2, 0)):
            for i in range(started):
                case = factories.case(db.session, factories.household(db.session, village),
                                      year=today.year)
                case.started_on = today - timedelta(days=15)
                case.completed_on = today - timedelta(days=8) if i < completed else None
        db.session.commit()
        db.session.remove()
    with serving(app) as url:
        yield url


@pytest.mark.parametrize("size", [(360, 800), (1366, 900)])
def test_the_ranking_page_fits(site, page_for, size):
    page = page_for(*size)
    sign_in(page, site, "county_admin")
    page.goto(f"{site}/review/ranking")
    named = page.locator("table.ranking tr.late")
    assert named.count() == 1 and "玉井镇" in named.inner_text()
    page.click("#weeks button.primary")  # take this week's (the second size retakes it)
    page.wait_for_load_state()
    assert "本周排名" in page.locator("p.notice").inner_text()
    assert page.locator("table.weeks tbody tr").count() == 6
    assert page.locator("table.tasks input[type=number]").count() == 2
    no_sideways_scroll(page)
    page.screenshot(path=str(Path("/tmp") / f"ranking-{size[0]}.png"), full_page=True)
    assert not page.errors
