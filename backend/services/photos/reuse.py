"""The same picture under another household: a resized, recompressed, mirrored or cropped copy.

Two hashes within 6 bits share one of their four 16-bit bands up to one bit, so the lookup reads
the rows whose band is one of those 17 values, about two thousand at a million photos (for the
hash and its mirror image). Each band's index also holds the hash and the id, so the database
counts the differing bits inside the index and reads the table only for the few within reach (at
a million photos, p95 ~30 ms → under 10, bench/reuse_lookup.py). Photos with too little detail
to hash (a black frame, a lens cap, a blank wall: flagged `low_information`) never match, and a
photo names at most `reuse_max_matches` look-alikes, nearest first, so one popular picture
cannot make every upload rewrite the flags of hundreds of others. A copy cropped by up to a
fifth is found by windows (crops.py): the new photo's window families against the stored centres
and frames of other households' photos (photo_windows), by their band keys, from the key indexes
alone (at a million photos, p95 ~0.6 s by 16-bit bands → 8 ms on SQLite, 11-15 ms on
PostgreSQL, where ~2,200 index probes a photo take ~4-5 ms of the server's time on integer
keys; the aim is 10).
"""

import json
from itertools import chain

import numpy as np
from sqlalchemy import (
    Integer,
    String,
    Text,
    TypeDecorator,
    bindparam,
    literal_column,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement, GenericFunction

from backend.models import Photo, PhotoFlag, PhotoWindow
from backend.models.photo import WINDOW_KINDS
from backend.services import locking
from backend.services.photos.checks import PhotoRules, band_neighbours, hash_bands
from backend.services.photos.crops import CropHashes, family_keys, nearest, window_keys
from backend.services.photos.perceptual import hamming

_BANDS = (Photo.phash_b0, Photo.phash_b1, Photo.phash_b2, Photo.phash_b3)
_WINDOW_KEYS = (PhotoWindow.k0, PhotoWindow.k1, PhotoWindow.k2, PhotoWindow.k3, PhotoWindow.k4,
                PhotoWindow.k5)


class HammingDistance(GenericFunction):
    """How many bits two 64-bit hashes differ in: SQLite calls `perceptual.hamming`
    (registered on each connection in db_sqlite.py); PostgreSQL counts them itself."""

    name = "hamming"
    type = Integer()
    inherit_cache = True


@compiles(HammingDistance, "postgresql")
def _hamming_on_postgresql(element, compiler, **kw):
    a, b = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"bit_count(CAST(({a} # {b}) AS BIT(64)))"


class _Keys(TypeDecorator):
    """A list of integers bound as one text parameter: an array literal for PostgreSQL to
    cast, a JSON array for SQLite's json_each. (An IN list of ~2,000 values cost more in
    SQLAlchemy than the lookup; psycopg's own list adapter, ~3 ms in Python per photo.)"""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if dialect.name == "postgresql":
            return "{" + ",".join(map(str, value)) + "}"
        return json.dumps(value)


class AmongKeys(FunctionElement):
    """`column` is one of the integers bound to `name` (a list): one parameter however long
    the list, and one statement shape for every photo. (Untyped: as a Boolean, SQLAlchemy
    would write it `... = 1` on SQLite, which no index serves.)"""

    name = "among_keys"
    inherit_cache = True

    def __init__(self, column, name: str):
        super().__init__(column, bindparam(name, type_=_Keys()))


@compiles(AmongKeys)
def _among_keys(element, compiler, **kw):
    column, bound = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"{column} IN (SELECT value FROM json_each({bound}))"


@compiles(AmongKeys, "postgresql")
def _among_keys_on_postgresql(element, compiler, **kw):
    # One index scan over the sorted values; IN (SELECT unnest(...)) joined the values to
    # the index instead, a tenth slower for ~2,200 keys.
    column, bound = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"{column} = ANY(CAST({bound} AS INTEGER[]))"


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
    within = or_(*(HammingDistance(Photo.phash, digest) <= rules.reuse_distance
                   for digest in wanted))
    near = union(*(select(Photo.id).where(col.in_(sorted(v)), within)
                   for col, v in zip(_BANDS, values, strict=True)))
    rows = session.execute(select(Photo.id, Photo.household_id, Photo.village_code,
                                  Photo.phash).where(
        Photo.id.in_(near), Photo.household_id != photo.household_id,
        or_(Photo.detail.is_(None), Photo.detail >= rules.low_detail),
    )).all()
    found = []
    for row in rows:
        straight, *flipped = (hamming(row.phash, digest) for digest in wanted)
        # A left-right flipped copy is nearer by the mirror image's hash: the reviewer is told.
        flip = {"mirrored": True} if flipped and flipped[0] < straight else {}
        found.append(({"photo_id": row.id, "household_id": row.household_id,
                       "village_code": row.village_code, **flip},
                      min([straight, *flipped])))
    found.sort(key=lambda item: (item[1], item[0]["photo_id"]))
    return found[:rules.reuse_max_matches]


def window_rows(photo: Photo, crops: CropHashes) -> list[dict]:
    """The stored windows of a photo, its centre and its frame, as photo_windows rows."""
    return [{"photo_id": photo.id, "household_id": photo.household_id, "kind": kind,
             "phash": digest, **{f"k{i}": k for i, k in enumerate(window_keys(digest))}}
            for kind, digest in (("centre", crops.centre), ("frame", crops.frame))]


def _keyed(kind: str, i: int):
    # The kind is a constant, not a parameter: SQLite uses a partial index only where the
    # query states the index's own condition (models.window_key_index), and a prepared plan
    # on PostgreSQL could not either. Each row names its kind by its place in WINDOW_KINDS,
    # so the rows load into one integer array.
    named = literal_column(f"'{kind}'", String)
    place = literal_column(str(WINDOW_KINDS.index(kind)), Integer)
    return select(PhotoWindow.id, place.label("kind"), PhotoWindow.phash).where(
        PhotoWindow.kind == named, AmongKeys(_WINDOW_KEYS[i], f"{kind}_k{i}"))


# The windows sharing a band key with a family: one statement of fixed shape, for every photo,
# read from the key indexes alone (each holds the hash and id); a window met by two keys comes
# twice. Whose photo each is waits for the few within reach.
_KEYED = union_all(*(_keyed(kind, i) for kind in WINDOW_KINDS for i in range(len(_WINDOW_KEYS))))
# PostgreSQL would share the twelve index scans among parallel workers, whose start costs more
# than the scans (p50 9 -> 17 ms at a million photos): the lookup runs in one process, and the
# caller's transaction goes on as before.
_IN_ONE_PROCESS = text("SET LOCAL max_parallel_workers_per_gather = 0")
_AS_BEFORE = text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")


def cropped_copies(session, photo: Photo, crops: CropHashes,
                   rules: PhotoRules) -> list[tuple[dict, int]]:
    """Other households' photos of which this one is a crop, or which are crops of it."""
    families = {"centre": crops.centres, "frame": crops.crops}
    keys = {f"{kind}_k{i}": values for kind, family in families.items()
            for i, values in enumerate(family_keys(family))}
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(_IN_ONE_PROCESS)
    # Most rows sharing a key are random: measure them all at once before reading any photo.
    rows = np.fromiter(chain.from_iterable(session.execute(_KEYED, keys).all()),
                       dtype=np.int64).reshape(-1, 3)  # id, kind, hash
    if postgresql:
        session.execute(_AS_BEFORE)
    distance = {}
    for place, kind in enumerate(WINDOW_KINDS):
        mine = rows[rows[:, 1] == place]
        if len(mine):
            near = nearest(mine[:, 2], families[kind])
            close = near <= rules.crop_distance
            distance |= dict(zip(mine[close, 0].tolist(), near[close].tolist(), strict=True))
    if not distance:
        return []
    best: dict[str, tuple[dict, int]] = {}
    for window_id, photo_id, household_id, village_code in session.execute(select(
            PhotoWindow.id, PhotoWindow.photo_id, PhotoWindow.household_id, Photo.village_code
    ).join(Photo, Photo.id == PhotoWindow.photo_id).where(
            PhotoWindow.id.in_(sorted(distance)),
            PhotoWindow.household_id != photo.household_id,
            or_(Photo.detail.is_(None), Photo.detail >= rules.low_detail))):
        if distance[window_id] < best.get(photo_id, ({}, 65))[1]:
            best[photo_id] = ({"photo_id": photo_id, "household_id": household_id,
                               "village_code": village_code, "cropped": True},
                              distance[window_id])
    return list(best.values())


def flag_near_duplicates(session, photo: Photo, rules: PhotoRules, *,
                         mirrored: int | None = None, crops: CropHashes | None = None) -> int:
    """Flag both photos of each near-identical pair under two households, naming each other;
    return how many look-alikes were found."""
    if not matchable(photo, rules):
        return 0
    found = near_duplicates(session, photo, rules, mirrored=mirrored)
    # A negative crop distance turns the cropped-copy lookup off (its windows are still kept).
    if crops is not None and rules.crop_distance >= 0:
        whole = {m["photo_id"] for m, _ in found}
        found += [m for m in cropped_copies(session, photo, crops, rules)
                  if m[0]["photo_id"] not in whole]
        found = sorted(found, key=lambda item: (item[1], item[0]["photo_id"]))
        found = found[:rules.reuse_max_matches]
    ids = [m["photo_id"] for m, _ in found]
    if ids:
        others = {p.id: p for p in session.scalars(select(Photo).where(Photo.id.in_(ids)))}
        # Another upload may be adding its match to the same stored photo's list: its flag is
        # held and read afresh, so neither addition is lost. A flag made meanwhile is a 503.
        locking.lock_flags(session, ids, "reused_elsewhere")
    me = {"photo_id": photo.id, "household_id": photo.household_id,
          "village_code": photo.village_code}
    for match, distance in found:
        _add_match(photo, match, distance, rules)
        # Which of the two is the cut-down one is not claimed: below a tenth cut away, each
        # side's windows find the other about as near (tests/services/test_reuse_crops.py).
        how = {key: match[key] for key in ("cropped", "mirrored") if key in match}
        _add_match(others[match["photo_id"]], {**me, **how}, distance, rules)
    return len(found)


def _add_match(photo: Photo, match: dict, distance: int, rules: PhotoRules) -> None:
    # The limit the distance was held to, so the reviewer reads both numbers.
    limit = rules.crop_distance if match.get("cropped") else rules.reuse_distance
    match = {**match, "distance": distance, "limit": limit}
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
