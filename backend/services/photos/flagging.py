"""A photo's own flags (checks.own_flags) against what the database holds around it: the
house, the case's other photos and its county's works period, the visit, the photos at the
same fix; recomputed when any of that changes, keeping what a reviewer decided where the
finding still holds.
"""

from sqlalchemy import select

from backend.models import Case, Household, Photo, PhotoFlag, Visit, WorkflowVersion
from backend.models.base import china_date
from backend.services import audit
from backend.services.photos.checks import (
    OWN_CODES,
    Context,
    PhotoRules,
    own_flags,
    repeats_a_fix,
    taken_at,
)
from backend.services.workflow.templates import spec_of


def refresh_own_flags(session, photo: Photo, household: Household, case: Case | None,
                      rules: PhotoRules, codes: tuple[str, ...] = OWN_CODES) -> Context:
    """Recompute the flags (of `codes`) a photo's own facts raise. A reviewed flag whose
    finding is unchanged keeps its review; one whose numbers changed is open again, since the
    decision was on other facts; one that no longer holds goes, its review kept in the audit
    log."""
    context = _context(session, photo, household, case, rules)
    wanted = own_flags(photo, context, rules)
    current = {f.code: f for f in photo.flags}
    for code in codes:
        flag = current.get(code)
        if code in wanted and flag is None:
            photo.flags.append(PhotoFlag(code=code, details=wanted[code]))
        elif code in wanted and flag.details != wanted[code]:
            _set_aside_review(session, photo, flag, wanted[code])
            flag.details = wanted[code]
        elif code not in wanted and flag is not None:
            _set_aside_review(session, photo, flag, None)
            photo.flags.remove(flag)
    return context


def _set_aside_review(session, photo: Photo, flag: PhotoFlag, details: dict | None) -> None:
    """A reviewer's decision on a flag whose finding changed (`details`) or went (None): the
    audit log keeps who decided what, and why; the flag, if it stays, is open again."""
    if flag.status == "open":
        return
    audit.record(session, None, "reopen_flag" if details else "withdraw_flag", "photo",
                 photo.id, {"code": flag.code, "status": [flag.status, "open" if details else None],
                            "reviewed_by": flag.reviewed_by, "reason": flag.review_reason,
                            "details": [flag.details, details]})
    flag.status, flag.reviewed_by, flag.reviewed_at, flag.review_reason = "open", None, None, None


def _context(session, photo: Photo, household: Household, case: Case | None,
             rules: PhotoRules) -> Context:
    latest_before = least = None
    if photo.phase == "after" and photo.case_id is not None:
        befores = session.scalars(select(Photo).where(Photo.case_id == photo.case_id,
                                                      Photo.phase == "before")).all()
        times = [t for t in (taken_at(p) for p in befores) if t]
        latest_before = max(times) if times else None
        least = _county_min_works_days(session, case)
    visit = session.get(Visit, photo.visit_id) if photo.visit_id else None
    return Context(
        house=(household.lat, household.lon) if household.has_location else None,
        latest_before=latest_before, works_started_on=case.started_on if case else None,
        min_works_days=least,
        visit_kind=visit.kind if visit else None,
        visit_has_position=bool(visit and visit.device_lat is not None),
        same_position=_same_position(session, photo, rules))


def _county_min_works_days(session, case: Case | None) -> int | None:
    """The minimum works period the case's county sets in its workflow file, if it does."""
    if case is None or case.workflow_id is None:
        return None
    version = session.get(WorkflowVersion, case.workflow_id)
    return spec_of(version).min_works_days if version is not None else None


_SAME_FIX_LIMIT = 50  # photos read at one fix: enough to find another house or day


def _at_same_fix(session, photo: Photo) -> list[Photo]:
    """Other photos at the very same phone position, the earliest received first."""
    return session.scalars(select(Photo).where(
        Photo.device_lat == photo.device_lat, Photo.device_lon == photo.device_lon,
        Photo.id != photo.id).order_by(Photo.received_at).limit(_SAME_FIX_LIMIT)).all()


def _same_position(session, photo: Photo, rules: PhotoRules) -> dict | None:
    """Another house's photo, or this house's on another day, at the very same fix."""
    if not repeats_a_fix(photo.device_lat, photo.device_lon, rules):
        return None
    day = taken_at(photo)
    for other in _at_same_fix(session, photo):
        when = taken_at(other)
        other_day = bool(day and when and china_date(day) != china_date(when))
        if other.household_id != photo.household_id or other_day:
            return {"photo_id": other.id, "household_id": other.household_id,
                    "lat": photo.device_lat, "lon": photo.device_lon,
                    "other_day": other_day}
    return None


def refresh_photos_that_read(session, photo: Photo, case: Case | None, rules: PhotoRules, *,
                             replayed_fix: bool) -> None:
    """Recheck, in stored photos, the flags that read the new one, so a flag does not hang on
    the order photos arrive in (a phone's queue, two phones): the case's 改造后 photos read its
    改造前 ones (phase order and timing), and the photos at a replayed fix read each other (it
    marks all of them, not only the last to arrive)."""
    if photo.phase == "before" and case is not None:
        recheck_phase_flags(session, case, rules)
    if replayed_fix:
        for other in _at_same_fix(session, photo):
            refresh_own_flags(session, other, session.get(Household, other.household_id),
                              session.get(Case, other.case_id) if other.case_id else None,
                              rules, codes=("mock_location",))


def recheck_phase_flags(session, case: Case, rules: PhotoRules) -> None:
    """Recheck the phase order and timing of a case's 改造后 photos, which read its 改造前
    photos and its 开工 date: when either arrives or changes after them."""
    for after in session.scalars(select(Photo).where(Photo.case_id == case.id,
                                                     Photo.phase == "after")):
        refresh_own_flags(session, after, session.get(Household, after.household_id), case,
                          rules, codes=("phase_order", "phase_timing"))


def recheck_household_photos(session, household: Household, rules: PhotoRules) -> int:
    """Recompute every photo's flags after the house location changed; return how many."""
    photos = session.scalars(select(Photo).where(Photo.household_id == household.id)).all()
    cases = {c.id: c for c in household.cases}
    for photo in photos:
        refresh_own_flags(session, photo, household, cases.get(photo.case_id), rules)
    return len(photos)
