"""A household moved to another town takes every row scoped by area with it: the old town's
reviewer no longer reads its photos, documents or payments; the new town's does."""

from datetime import date

import pytest

from backend.models import Attachment, Household, Payment, Photo
from backend.services.policy import Actor
from tests import factories
from tests.api.test_reports import paid
from tests.web import upload


@pytest.fixture
def world(db, templates):
    return factories.world(db.session)


def test_every_model_scoped_by_area_is_tied_to_a_household_or_a_case():
    scoped = [m.class_ for m in Household.registry.mappers if "village_code" in m.columns]
    assert len(scoped) >= 9  # households, cases, photos, visits, rectifications, rounds' rows,
    for model in scoped:     # attachments, payments, recoveries
        columns = model.__mapper__.columns
        assert model is Household or "household_id" in columns or "case_id" in columns, model


def test_moving_a_household_moves_its_photos_documents_and_payments(client, db, world):
    w = world
    h = w.households[w.village_a1]
    case = factories.case(db.session, h, status="accepted")
    photo_id = upload(db.session, Actor.of(w.users["inspector"]), h, phase="before", seed=7,
                      case_id=case.id)
    paid(db, w, case, "1000.00", date(2026, 11, 1))
    r = client.patch(f"/api/v1/households/{h.id}", json={"village_code": w.village_b1},
                     headers=w.headers("county_admin"))
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    for model in (Photo, Attachment, Payment):
        assert {row.village_code for row in db.session.query(model)} == {w.village_b1}, model
    assert client.get(f"/api/v1/photos/{photo_id}",
                      headers=w.headers("town_reviewer")).status_code == 404
    reviewer_b = factories.user(db.session, "town_reviewer", [w.town_b], username="rev_b")
    token = factories.token_for(db.session, reviewer_b)
    assert client.get(f"/api/v1/photos/{photo_id}",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    ledger = client.get("/api/v1/payments/ledger.xlsx?year=2026",
                        headers=w.headers("town_reviewer"))
    assert ledger.status_code == 200
    import io

    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(ledger.data)).worksheets[0]
    assert sheet.max_row == 1  # the old town's ledger no longer lists it
