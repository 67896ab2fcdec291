"""Benchmark: the reused-photo lookup (reuse.near_duplicates) at a million photo rows.

Bulk-loads photos with random 64-bit perceptual hashes, plus near duplicates (a stored hash with
1-5 bits flipped, as a resized or recompressed copy gives) under other households, then times
the lookup the upload runs: for new photos nobody has seen, and for copies of stored ones
(matching by the hash or by its mirror). Aim (issue 20): p95 <= 10 ms on SQLite and on
PostgreSQL; prints MISSED otherwise. With the photos' windows (photo_windows: a centre and a
frame hash each, random like the photos') it times the cropped-copy lookup too, the new photo's
window families (crops.py) against them: the same aim.

    .venv/bin/python bench/reuse_lookup.py [--rows 1000000] [--db postgresql://...]
"""

import argparse
import random
import time
import uuid
from types import SimpleNamespace

from common import (
    SPEED_LABEL,
    bench_app,
    bulk_insert,
    engine_name,
    machine_speed,
    measure,
    refresh_statistics,
    stored_now,
)

from backend.extensions import db
from backend.services.photos.checks import PhotoRules, hash_bands
from backend.services.photos.crops import crop_hashes, window_keys
from backend.services.photos.reuse import cropped_copies, near_duplicates
from tests import factories
from tests.houses import draw_house

TARGET_P95_MS = 10.0
COLUMNS = ["id", "household_id", "village_code", "number", "phase", "sha256", "bytes", "width",
           "height", "format", "mime", "phash", "phash_b0", "phash_b1", "phash_b2", "phash_b3",
           "detail", "large_is_original", "received_at", "uploaded_by"]


def signed(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


def flip(value: int, bits: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return signed(value & ((1 << 64) - 1))


def rows(count: int, houses: list[tuple[int, str]], user: int, rng: random.Random,
         kept: list[int]):
    """Photo rows; every 20th a near duplicate of an earlier one under another household."""
    now = stored_now()
    hashes: list[int] = []
    for i in range(count):
        if i % 20 == 19:
            digest = flip(hashes[rng.randrange(len(hashes))], rng.randint(1, 5), rng)
        else:
            digest = signed(rng.getrandbits(64))
        hashes.append(digest)
        if i % (count // 200 or 1) == 0:
            kept.append(digest)
        house, village = houses[i % len(houses)]
        yield (str(uuid.UUID(int=rng.getrandbits(128))), house, village, i + 1, "before",
               f"{i:064x}", 700_000, 2048, 1536, "jpeg", "image/jpeg", digest,
               *hash_bands(digest), round(rng.uniform(4, 40), 2), True, now, user)


WINDOW_COLUMNS = ["photo_id", "household_id", "kind", "phash", *(f"k{i}" for i in range(6))]


def window_rows(photo_rows):
    """Each photo row as given, and its centre and frame windows (random hashes) aside."""
    windows: list[tuple] = []

    def photos():
        for row in photo_rows:
            for kind in ("centre", "frame"):
                digest = signed(random.getrandbits(64))
                windows.append((row[0], row[1], kind, digest, *window_keys(digest)))
            yield row

    return photos(), windows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: a new SQLite file)")
    args = parser.parse_args()
    rng = random.Random(20)
    with bench_app(args.db) as app:
        w = factories.world(db.session)
        db.session.commit()
        houses = [(h.id, h.village_code) for h in w.households.values()]
        user = w.users["inspector"].id
        kept: list[int] = []
        started = time.perf_counter()
        photo_rows, windows = window_rows(rows(args.rows, houses, user, rng, kept))
        bulk_insert("photos", COLUMNS, photo_rows)
        bulk_insert("photo_windows", WINDOW_COLUMNS, windows)
        windows.clear()
        refresh_statistics()
        load_s = time.perf_counter() - started
        speed = machine_speed()
        rules = PhotoRules()
        other = -1  # a household of its own: every stored photo is another household's
        fresh = [signed(rng.getrandbits(64)) for _ in range(args.lookups)]
        copies = [flip(kept[i % len(kept)], rng.randint(0, 4), rng) for i in range(args.lookups)]
        results = {}
        for label, wanted in (("new photo (no match)", fresh), ("copy of a stored photo", copies)):
            queue = iter(wanted * 2)
            found = []

            def lookup(queue=queue, found=found):
                digest = next(queue)
                probe = SimpleNamespace(phash=digest, household_id=other)
                found.append(len(near_duplicates(db.session, probe, rules,
                                                 mirrored=flip(digest, 32, rng))))

            results[label] = (*measure(lookup, args.lookups - 2), sum(found) / len(found))
        families = [crop_hashes(draw_house(seed, (320, 240))) for seed in range(8)]
        queue = iter(families * (args.lookups // 4 + 1))
        found = []

        def crop_lookup(queue=queue, found=found):
            probe = SimpleNamespace(phash=0, household_id=other)
            found.append(len(cropped_copies(db.session, probe, next(queue), rules)))

        results["cropped copy (windows)"] = (*measure(crop_lookup, args.lookups // 4),
                                             sum(found) / len(found))
        print(f"Reused-photo lookup, {engine_name(app)}, {args.rows:,} photo rows and "
              f"{2 * args.rows:,} window rows (loaded in {load_s:.0f} s); the machine may be "
              "shared: figures are noisy")
        print(f"  {'lookup':26s} {'p50 ms':>7s} {'p95 ms':>7s} {'max ms':>7s} {'SQL':>4s} "
              f"{'matches':>8s}")
        print(f"  {SPEED_LABEL}: before the lookups {speed}; after {machine_speed()}")
        worst = 0.0
        for label, (p50, p95, top, queries, matches) in results.items():
            worst = max(worst, p95)
            print(f"  {label:26s} {p50:7.2f} {p95:7.2f} {top:7.2f} {queries:4d} {matches:8.2f}")
        print(f"  p95 <= {TARGET_P95_MS:.0f} ms: {worst:.2f} ms "
              f"{'met' if worst <= TARGET_P95_MS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
