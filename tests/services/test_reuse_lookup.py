"""Issue 20: the reused-photo lookup counts differing bits in the database (SQLite through
`perceptual.hamming`, PostgreSQL with bit_count): it must agree with Python's count bit for
bit, for hashes with the top bit set (stored negative) as for the others."""

import random
import uuid
from types import SimpleNamespace

from backend.models import Photo
from backend.services.photos.checks import PhotoRules, hash_bands
from backend.services.photos.perceptual import hamming
from backend.services.photos.reuse import near_duplicates
from tests import factories


def signed(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


def stored(session, household, digest: int, number: int) -> Photo:
    photo = Photo(id=str(uuid.uuid4()), household_id=household.id,
                  village_code=household.village_code, number=number, phase="before",
                  sha256=f"{number:064x}", bytes=1, width=1, height=1, format="jpeg",
                  mime="image/jpeg", phash=digest, detail=20.0, uploaded_by=1,
                  **{f"phash_b{i}": b for i, b in enumerate(hash_bands(digest))})
    session.add(photo)
    return photo


def test_the_database_counts_bits_as_python_does_at_every_distance(db):
    w = factories.world(db.session)
    household = next(iter(w.households.values()))
    rng = random.Random(3)
    rules = PhotoRules()
    probe = signed(rng.getrandbits(64) | (1 << 63))  # negative as stored
    expected = {}
    for number, bits in enumerate([0, 1, 3, 5, 6, 7, 8, 12, 20, 40, 63, 64] * 2, start=1):
        digest = probe
        for bit in rng.sample(range(64), bits):
            digest ^= 1 << bit
        digest = signed(digest & ((1 << 64) - 1))
        photo = stored(db.session, household, digest, number)
        if hamming(digest, probe) <= rules.reuse_distance:
            expected[photo.id] = hamming(digest, probe)
    db.session.commit()
    found = near_duplicates(db.session, SimpleNamespace(phash=probe, household_id=-1), rules)
    assert {m["photo_id"]: d for m, d in found} == dict(
        sorted(expected.items(), key=lambda e: e[1])[:rules.reuse_max_matches])
    assert len(found) == min(len(expected), rules.reuse_max_matches) > 0
