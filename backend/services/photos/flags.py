"""A reviewer's work on photo flags: the worklist, deciding one (confirm or dismiss with a
reason, which stays on the photo), and the pairs of near-identical photos under two households.

Every function reads only inside the caller's area, in a constant number of queries.
"""

from dataclasses import dataclass

from sqlalchemy import select

from backend.display import flag_photo_ids
from backend.models import Household, Photo, PhotoFlag
from backend.models.base import utc_now
from backend.models.region import code_range, level_of
from backend.services import audit, policy
from backend.services.errors import InvalidInput, NotFound
from backend.services.policy import Actor


@dataclass(frozen=True)
class PhotoRef:
    """Another photo a flag points at, as a reviewer knows it: 王建国户 3号照片."""

    id: str
    household: str
    number: int

    def __str__(self) -> str:
        return f"{self.household}户 {self.number}号照片"


def photo_refs(session, actor: Actor, flags) -> dict[str, PhotoRef]:
    """The photos `flags` point at (display.flag_photo_ids) that lie in the actor's area, in
    one query; one outside it is left out, and the pages say so."""
    wanted = {i for f in flags for i in flag_photo_ids(f)}
    if not wanted:
        return {}
    rows = session.execute(policy.scoped(
        select(Photo.id, Photo.number, Household.name)
        .join(Household, Household.id == Photo.household_id).where(Photo.id.in_(wanted)),
        actor, Photo))
    return {row.id: PhotoRef(row.id, row.name, row.number) for row in rows}


@dataclass
class FlaggedPhoto:
    flag: PhotoFlag
    photo: Photo
    household: Household


def flagged_photos(session, actor: Actor, *, code: str | None = None, status: str = "open",
                   village: str | None = None, limit: int = 200) -> list[FlaggedPhoto]:
    """Flags to work through in the actor's area, oldest raised first."""
    stmt = policy.scoped(
        select(PhotoFlag, Photo, Household).join(Photo, Photo.id == PhotoFlag.photo_id)
        .join(Household, Household.id == Photo.household_id), actor, Photo)
    if status != "all":
        stmt = stmt.where(PhotoFlag.status == status)
    if code:
        stmt = stmt.where(PhotoFlag.code == code)
    if village:
        stmt = stmt.where(Photo.village_code.between(*code_range(village, level_of(village))))
    rows = session.execute(stmt.order_by(PhotoFlag.raised_at, PhotoFlag.id).limit(limit)).all()
    return [FlaggedPhoto(f, p, h) for f, p, h in rows]


def decide_flag(session, actor: Actor, photo_id: str, code: str, decision: str,
                reason: str | None) -> Photo:
    """Confirm or dismiss one flag of a photo; a dismissed flag stays, with who, when and why."""
    actor.require(policy.VISIT_REVIEW)
    photo = policy.get_in_scope(session, Photo, photo_id, actor)
    flag = next((f for f in photo.flags if f.code == code), None)
    if flag is None:
        raise NotFound("该照片没有此标记")
    reason = (reason or "").strip() or None
    if decision not in ("confirm", "dismiss"):
        raise InvalidInput(fields={"decision": "应为 confirm（确认）或 dismiss（排除）"})
    if decision == "dismiss" and not reason:
        raise InvalidInput("排除标记时须说明理由", fields={"reason": "排除标记时须说明理由"})
    old = flag.status
    flag.status = "confirmed" if decision == "confirm" else "dismissed"
    flag.reviewed_by = actor.user_id
    flag.reviewed_at = utc_now()
    flag.review_reason = reason
    audit.record(session, actor, "review_flag", "photo", photo.id,
                 {"code": code, "status": [old, flag.status], "reason": reason})
    session.commit()
    return photo


@dataclass
class ReusedPair:
    photo: Photo
    household: Household
    other: Photo | None  # None: the other photo lies outside the actor's area
    other_household: Household | None
    match: dict  # as `photo`'s flag names `other`: distance, limit, cropped, mirrored


def reused_pairs(session, actor: Actor, *, include_reviewed: bool = False,
                 limit: int = 200) -> list[ReusedPair]:
    """Near-identical photos under two households, each pair once."""
    stmt = policy.scoped(
        select(PhotoFlag, Photo, Household).join(Photo, Photo.id == PhotoFlag.photo_id)
        .join(Household, Household.id == Photo.household_id)
        .where(PhotoFlag.code == "reused_elsewhere"), actor, Photo)
    if not include_reviewed:
        stmt = stmt.where(PhotoFlag.status == "open")
    rows = session.execute(stmt.order_by(PhotoFlag.raised_at, PhotoFlag.id)).all()
    wanted = {m["photo_id"] for f, _, _ in rows for m in f.details.get("matches", [])}
    others = {p.id: (p, h) for p, h in session.execute(policy.scoped(
        select(Photo, Household).join(Household, Household.id == Photo.household_id)
        .where(Photo.id.in_(wanted)), actor, Photo))} if wanted else {}
    pairs, seen = [], set()
    for flag, photo, household in rows:
        for match in flag.details.get("matches", []):
            key = tuple(sorted((photo.id, match["photo_id"])))
            if key in seen:
                continue
            seen.add(key)
            other, other_household = others.get(match["photo_id"], (None, None))
            pairs.append(ReusedPair(photo, household, other, other_household, match))
    return pairs[:limit]
