"""Benchmark: households' archives. One archive PDF with 60 photos, and a town's ZIP of 200
archives streamed.

The data is made through the services (photos ingested, so their `large` sizes exist) in this
process; each measurement then runs in a fresh process, as a worker would serve it, and reads
its own memory: the peak RSS (ru_maxrss) and, while the ZIP streams, VmRSS after every chunk.
Aims (issue 16): the PDF in ≤ 5 s and ≤ 300 MB; the ZIP's memory flat however many households.

    .venv/bin/python bench/archive.py [--photos 60] [--households 200] [--each 4]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend import create_app  # noqa: E402
from backend.extensions import db, object_store  # noqa: E402
from backend.services import attachments, photos  # noqa: E402
from backend.services.checklists.templates import load_templates  # noqa: E402
from backend.services.photos.checks import PhotoRules  # noqa: E402
from backend.services.policy import Actor  # noqa: E402
from backend.services.workflow.templates import load_workflows  # noqa: E402
from tests import factories, images  # noqa: E402

NODES = {"before": ["site"], "during": ["foundation", "wall", "ring_beam"], "after": ["site"]}


def config(tmp: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
            "TESTING": True, "INSTANCE_DIR": tmp, "STORAGE_LOCAL_ROOT": f"{tmp}/photos",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}


def add_photo(actor, household, case, phase, node, seed, size) -> None:
    data = images.make_jpeg(*size, seed=seed, pattern="noisy")
    taken = datetime.now(UTC) - timedelta(days=3)
    meta = photos.PhotoMeta(household_id=household.id, case_id=case.id, phase=phase, node=node,
                            captured_at=taken, lat=39.52 + (seed % 7) * 1e-4, lon=112.81,
                            accuracy_m=8.0, fix_at=taken)
    photos.ingest_photo(db.session, object_store(), actor, str(uuid.uuid4()), data, meta,
                        rules=PhotoRules(), max_bytes=20 << 20, max_pixels=60_000_000)


def add_documents(actor, case, count: int) -> None:
    for kind in ("application_form", "household_register", "agreement")[:count]:
        data = b"%PDF-1.4\n" + os.urandom(300_000) + b"\n%%EOF\n"
        attachments.store_attachment(db.session, object_store(), actor, str(uuid.uuid4()),
                                     data, case_id=case.id, kind=kind, filename=f"{kind}.pdf",
                                     max_bytes=20 << 20)


def build(photo_count: int, households: int, each: int) -> dict:
    load_templates(db.session)
    load_workflows(db.session)
    w = factories.world(db.session)
    inspector = Actor.of(w.users["inspector"])
    phases = [p for p, nodes in NODES.items() for _ in nodes]
    one = w.households[w.village_a1]
    case = factories.case(db.session, one, status="planned")
    for i in range(photo_count):
        phase = phases[i % len(phases)]
        add_photo(inspector, one, case, phase, NODES[phase][i % len(NODES[phase])], i,
                  (2400, 1800))
    add_documents(inspector, case, 3)
    for n in range(households):
        h = factories.household(db.session, w.village_a2, name=f"农户{n:03d}")
        c = factories.case(db.session, h, status="planned")
        for i in range(each):
            phase = ("before", "during", "during", "after")[i % 4]
            add_photo(inspector, h, c, phase, NODES[phase][0], 10_000 + n * each + i,
                      (1600, 1200))
        add_documents(inspector, c, 2)
    return {"household": one.id, "region": w.village_a2, "town": w.town_a,
            "token": w.tokens["town_reviewer"]}


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(s for s in status if s.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, tmp: str, facts: dict) -> dict:
    """One worker's view: a fresh app, then the request; time and memory."""
    app = create_app(config(tmp))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {facts['token']}"}
    with app.app_context():
        baseline = rss_mb()
        if mode == "pdf":
            times = []
            for _ in range(4):
                started = time.perf_counter()
                size = save(client.get(f"/api/v1/households/{facts['household']}/archive.pdf",
                                       headers=headers, buffered=False), Path(tmp, "one.pdf"))
                times.append(time.perf_counter() - started)
            return {"baseline": baseline, "times": times, "bytes": size, "peak": peak_mb(),
                    "end": rss_mb()}
        started = time.perf_counter()
        samples: list = []
        written = save(client.get(f"/api/v1/archives.zip?region={facts['region']}&year=2026",
                                  headers=headers, buffered=False), Path(tmp, "all.zip"), samples)
        return {"baseline": baseline, "seconds": time.perf_counter() - started,
                "bytes": written, "samples": samples, "peak": peak_mb()}


def save(response, path: Path, samples: list | None = None) -> int:
    """Write a response to a file chunk by chunk, as a client downloading it would; note the
    worker's RSS after every chunk."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    written = 0
    with path.open("wb") as out:
        for chunk in response.response:
            out.write(chunk)
            written += len(chunk)
            if samples is not None:
                samples.append((written, rss_mb()))
    response.close()
    return written


def run_child(mode: str, tmp: str, facts: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--dir", tmp,
                          "--facts", json.dumps(facts)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the {mode} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--each", type=int, default=4, help="photos per household in the ZIP")
    parser.add_argument("--child")
    parser.add_argument("--dir")
    parser.add_argument("--facts")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, json.loads(args.facts))))
        return

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(config(tmp))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            started = time.perf_counter()
            facts = build(args.photos, args.households, args.each)
            print(f"data: one case with {args.photos} photos (2400×1800, embedded at 1600 px); "
                  f"{args.households} cases with {args.each} photos and 2 documents each "
                  f"({time.perf_counter() - started:.0f} s to make)")
            db.session.remove()
            db.engine.dispose()

        pdf = run_child("pdf", tmp, facts)
        cold, warm = pdf["times"][0], sorted(pdf["times"][1:])
        print(f"\none archive PDF, {args.photos} photos, {pdf['bytes'] / 1e6:.1f} MB:")
        print(f"  time    first {cold:.2f} s (loads WeasyPrint and the fonts), then "
              f"{warm[len(warm) // 2]:.2f} s median, {warm[-1]:.2f} s max  "
              f"{'OK' if max(pdf['times']) <= 5 else 'MISSED'} (aim ≤ 5 s)")
        print(f"  memory  worker RSS {pdf['baseline']:.0f} MB before, peak {pdf['peak']:.0f} MB"
              f"  {'OK' if pdf['peak'] <= 300 else 'MISSED'} (aim ≤ 300 MB)")

        zipped = run_child("zip", tmp, facts)
        samples = zipped["samples"]

        def rss_at(share: float) -> float:
            return next(rss for written, rss in samples if written >= zipped["bytes"] * share)

        tenth = rss_at(0.1)
        top = max(rss for _, rss in samples)
        with zipfile.ZipFile(Path(tmp, "all.zip")) as zf:
            pdfs = sum(1 for n in zf.namelist() if n.endswith(".pdf") and "/附件/" not in n)
            docs = sum(1 for n in zf.namelist() if "/附件/" in n)
            assert zf.testzip() is None
        print(f"\nZIP of {pdfs} archives ({docs} documents, {zipped['bytes'] / 1e6:.0f} MB), "
              f"streamed in {zipped['seconds']:.0f} s "
              f"({zipped['seconds'] / max(pdfs, 1):.2f} s per household):")
        print(f"  memory  worker RSS {zipped['baseline']:.0f} MB before; after 10/25/50/75 % "
              f"of the bytes {' / '.join(f'{rss_at(x):.0f}' for x in (.1, .25, .5, .75))} MB, "
              f"{samples[-1][1]:.0f} MB at the end; peak {zipped['peak']:.0f} MB  "
              f"{'OK (flat)' if top - tenth <= 30 else 'GROWS'}")


if __name__ == "__main__":
    main()
