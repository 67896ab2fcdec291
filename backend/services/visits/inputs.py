"""A visit as the phone sends it, typed: what `record_visit` takes once the API parsed it."""

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Position:
    """The phone's own fix when the visit was recorded (WGS-84)."""

    lat: float
    lon: float
    accuracy_m: float | None = None
    fix_at: datetime | None = None


@dataclass(frozen=True)
class RectificationInput:
    """What the inspector set on the spot for a failed item; defaults fill the rest."""

    task: str | None = None
    measure: str | None = None
    responsible: str | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class ResultInput:
    item: str
    result: str  # pass | fail | na
    value: float | None = None
    note: str | None = None
    photos: list[str] = field(default_factory=list)
    rectification: RectificationInput | None = None


@dataclass(frozen=True)
class Signoff:
    role: str
    name: str
    signed_at: datetime | None = None


@dataclass(frozen=True)
class VisitInput:
    """A visit as the phone sends it."""

    household_id: int
    kind: str
    phase: str
    template_code: str
    started_at: datetime
    ended_at: datetime
    template_version: int | None = None
    case_id: int | None = None
    round_id: int | None = None
    position: Position | None = None
    note: str | None = None
    results: list[ResultInput] = field(default_factory=list)
    outcome: str | None = None
    danger_points: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    signoffs: list[Signoff] = field(default_factory=list)
    appraisal_after: str | None = None
    # The returned visit this one answers (补拍/修改), when it is a resubmission.
    answers_visit_id: str | None = None
