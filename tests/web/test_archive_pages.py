"""The case page's archive download: the household's PDF, as the API makes it."""

import io

from pypdf import PdfReader

from backend import display
from tests.web import login_as, review_case


def test_case_page_links_the_archive_pdf_which_masks_without_the_pii_right(client, db):
    rc = review_case(db.session)
    h = rc.case.household
    login_as(client, db, rc.world.users["inspector"])
    page = client.get(f"/review/cases/{rc.case.id}").get_data(as_text=True)
    link = f"/review/households/{h.id}/archive.pdf?year={rc.case.year}"
    assert "下载档案（PDF）" in page and link in page.replace("&amp;", "&")
    r = client.get(link)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Cache-Control"] == "private, no-store"
    text = "".join(PdfReader(io.BytesIO(r.data)).pages[0].extract_text().split())
    assert h.name in text and display.masked_id_number(h.id_number) in text


def test_archive_of_a_household_outside_my_area_is_not_found(client, db):
    rc = review_case(db.session)
    login_as(client, db, rc.reviewer_b)  # town B's reviewer; the case is in town A
    r = client.get(f"/review/households/{rc.case.household_id}/archive.pdf")
    assert r.status_code == 404 and r.mimetype == "text/html"
