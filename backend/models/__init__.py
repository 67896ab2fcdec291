"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees every table."""

from backend.models.audit import AuditEvent
from backend.models.case import Case, CaseStatusChange
from backend.models.household import Appraisal, Household
from backend.models.photo import Photo, PhotoFlag
from backend.models.region import Region
from backend.models.round import Round, RoundHousehold
from backend.models.user import ApiToken, LoginAttempt, User, UserRegion
from backend.models.visit import ChecklistTemplate, Rectification, Visit, VisitResult

__all__ = [
    "ApiToken",
    "Appraisal",
    "AuditEvent",
    "Case",
    "ChecklistTemplate",
    "CaseStatusChange",
    "Household",
    "LoginAttempt",
    "Photo",
    "PhotoFlag",
    "Rectification",
    "Region",
    "Round",
    "RoundHousehold",
    "User",
    "UserRegion",
    "Visit",
    "VisitResult",
]
