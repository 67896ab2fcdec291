"""Benchmark: a case's timeline with 150 photos over 20 visits.

Builds the case through the real API (photo uploads and visits from the phone's point of
view), then times `GET /api/v1/cases/{id}/timeline`. Aim (issue 4): p95 under 40 ms on SQLite,
and a number of SQL statements that does not grow with the photos.

    .venv/bin/python bench/timeline.py [--visits 20] [--photos 150] [--db postgresql://...]
"""

import argparse
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta

from common import HEADER, bench_app, engine_name, measure, row
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.extensions import db
from backend.services.checklists.templates import load_templates
from tests import factories, images

ITEMS = [("foundation", "foundation.depth", 620), ("foundation", "foundation.type", None),
         ("wall", "wall.materials", None), ("wall", "wall.mortar_joints", 85),
         ("tie_column", "tie_column.location", None), ("ring_beam", "ring_beam.layout", None)]


def upload(client, w, case, item, node, phase, seed, visit_id, lat_shift) -> str:
    data = images.make_jpeg(480, 360, seed=seed)
    boundary, body = encode_multipart({
        "household_id": str(case.household_id), "case_id": str(case.id), "phase": phase,
        "node": node, "item": item, "visit_id": visit_id,
        "lat": str(39.52 + lat_shift), "lon": "112.81", "accuracy_m": "8",
        "captured_at": datetime.now(UTC).isoformat(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "file": FileStorage(io.BytesIO(data), "p.jpg")})
    photo_id = str(uuid.uuid4())
    r = client.put(f"/api/v1/photos/{photo_id}", data=body, headers=w.headers("inspector"),
                   content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 201, r.get_json()
    return photo_id


def build(client, w, visits: int, photos: int):
    case = factories.case(db.session, w.households[w.village_a1], status="planned")
    per_visit = photos // visits
    start = datetime.now(UTC) - timedelta(days=visits + 1)
    seed = 0
    for v in range(visits):
        visit_id = str(uuid.uuid4())
        node, item, value = ITEMS[v % len(ITEMS)]
        phase = "before" if v == 0 else "during"
        shots = []
        for _ in range(per_visit + (photos % visits if v == visits - 1 else 0)):
            seed += 1
            # Every tenth photo is taken far away, so the timeline carries flags too.
            shots.append(upload(client, w, case, item, node, phase, seed, visit_id,
                                0.01 if seed % 10 == 0 else 0.0002))
        result = {"item": item, "result": "pass", "photos": shots}
        if value is not None:
            result["value"] = value
        body = {"household_id": case.household_id, "case_id": case.id, "kind": "construction",
                "phase": phase, "template": {"code": "rebuild"},
                "started_at": (start + timedelta(days=v)).isoformat(),
                "ended_at": (start + timedelta(days=v, hours=1)).isoformat(),
                "results": [result]}
        r = client.put(f"/api/v1/visits/{visit_id}", json=body, headers=w.headers("inspector"))
        assert r.status_code == 201, r.get_json()
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=20)
    parser.add_argument("--photos", type=int, default=150)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    with bench_app(args.db) as app:
        load_templates(db.session)
        w = factories.world(db.session)
        client = app.test_client()
        empty = factories.case(db.session, w.households[w.village_a2], status="planned")
        case = build(client, w, args.visits, args.photos)
        headers = w.headers("town_reviewer")

        def timeline(case_id):
            def call():
                response = client.get(f"/api/v1/cases/{case_id}/timeline", headers=headers)
                assert response.status_code == 200, response.get_json()
                return response
            return call

        body = timeline(case.id)().get_json()
        shown = sum(len(n["photos"]) for p in body["phases"] for n in p["nodes"])
        print(f"case timeline: {len(body['visits'])} visits, {shown} photos, "
              f"{sum(body['flag_counts'].values())} flags ({engine_name(app)}), "
              f"{args.repeat} runs, through the API\n{HEADER}")
        print(row("empty case (no visits, no photos)", measure(timeline(empty.id), args.repeat),
                  aim_ms=None))
        print(row(f"{args.visits} visits, {args.photos} photos", measure(timeline(case.id),
                                                                       args.repeat), aim_ms=40))


if __name__ == "__main__":
    main()
