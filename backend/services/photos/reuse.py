"""The same picture under another household: a resized, recompressed or mirrored copy.

The lookup reads only id, household, village and hash of the rows that share a 16-bit band of
the hash (or of its mirror image) up to one bit, then counts bits in Python: at a million photos
that is about a thousand small rows, not a thousand full ones. Photos with too little detail to
hash (a black frame, a lens cap, a blank wall: flagged `low_information`) never match, and a
photo names at most `reuse_max_matches` look-alikes, nearest first, so one popular picture
cannot make every upload rewrite the flags of hundreds of others.
"""

from sqlalchemy import or_, select

from backend.models import Photo, PhotoFlag
from backend.services.photos.checks import PhotoRules, band_neighbours, hash_bands
from backend.services.photos.perceptual import hamming

_BANDS = (Photo.phash_b0, Photo.phash_b1, Photo.phash_b2, Photo.phash_b3)


def matchable(photo, rules: PhotoRules) -> bool:
    """Whether a photo holds enough picture to be matched at all (unmeasured ones do)."""
    return photo.detail is None or photo.detail >= rules.low_detail


def near_duplicates(session, photo: Photo, rules: PhotoRules, *,
                    mirrored: int | None = None) -> list[tuple[dict, int]]:
    """Other households' photos within `reuse_distance` bits of the photo or its mirror image,
    nearest first, at most `reuse_max_matches`: ({id, household_id, village_code}, distance)."""
    wanted = [photo.phash] if mirrored is None else [photo.phash, mirrored]
    values: list[set[int]] = [set(), set(), set(), set()]
    for digest in wanted:
        for column, band in enumerate(hash_bands(digest)):
            values[column].update(band_neighbours(band))
    rows = session.execute(select(Photo.id, Photo.household_id, Photo.village_code,
                                  Photo.phash).where(
        or_(*(col.in_(sorted(v)) for col, v in zip(_BANDS, values, strict=True))),
        Photo.household_id != photo.household_id,
        or_(Photo.detail.is_(None), Photo.detail >= rules.low_detail),
    )).all()
    found = []
    for row in rows:
        distance = min(hamming(row.phash, digest) for digest in wanted)
        if distance <= rules.reuse_distance:
            found.append(({"photo_id": row.id, "household_id": row.household_id,
                           "village_code": row.village_code}, distance))
    found.sort(key=lambda item: (item[1], item[0]["photo_id"]))
    return found[:rules.reuse_max_matches]


def flag_near_duplicates(session, photo: Photo, rules: PhotoRules, *,
                         mirrored: int | None = None) -> int:
    """Flag both photos of each near-identical pair under two households, naming each other;
    return how many look-alikes were found."""
    if not matchable(photo, rules):
        return 0
    found = near_duplicates(session, photo, rules, mirrored=mirrored)
    others = {p.id: p for p in session.scalars(select(Photo).where(
        Photo.id.in_([m["photo_id"] for m, _ in found])))} if found else {}
    me = {"photo_id": photo.id, "household_id": photo.household_id,
          "village_code": photo.village_code}
    for match, distance in found:
        _add_match(photo, match, distance, rules)
        _add_match(others[match["photo_id"]], me, distance, rules)
    return len(found)


def _add_match(photo: Photo, match: dict, distance: int, rules: PhotoRules) -> None:
    match = {**match, "distance": distance}
    flag = next((f for f in photo.flags if f.code == "reused_elsewhere"), None)
    if flag is None:
        photo.flags.append(PhotoFlag(code="reused_elsewhere", details={"matches": [match]}))
        return
    known = flag.details.get("matches", [])
    if len(known) >= rules.reuse_max_matches or \
            any(m["photo_id"] == match["photo_id"] for m in known):
        return
    # A new dict so the JSON column sees the change.
    flag.details = {"matches": [*known, match]}
    flag.status = "open"
