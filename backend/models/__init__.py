"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees every table."""

from backend.models.attachment import Attachment
from backend.models.audit import AuditEvent
from backend.models.case import Case
from backend.models.household import Appraisal, Household
from backend.models.money import FundAllocation, Payment, Recovery
from backend.models.photo import Photo, PhotoFlag, PhotoWindow
from backend.models.region import Region
from backend.models.report import AnnualTask, RankingSnapshot, ReportFiling
from backend.models.round import Round, RoundHousehold, RoundTally
from backend.models.spot_check import SpotCheck
from backend.models.user import ApiToken, LoginCounter, User, UserRegion
from backend.models.visit import ChecklistTemplate, Rectification, Visit, VisitResult
from backend.models.workflow import (
    CaseStep,
    DepartmentCheck,
    Objection,
    Publicity,
    WorkflowVersion,
)

__all__ = [
    "AnnualTask",
    "ApiToken",
    "Appraisal",
    "Attachment",
    "AuditEvent",
    "Case",
    "ChecklistTemplate",
    "CaseStep",
    "DepartmentCheck",
    "FundAllocation",
    "Household",
    "LoginCounter",
    "Objection",
    "Payment",
    "Photo",
    "PhotoFlag",
    "PhotoWindow",
    "Publicity",
    "RankingSnapshot",
    "Rectification",
    "Recovery",
    "Region",
    "ReportFiling",
    "Round",
    "RoundHousehold",
    "RoundTally",
    "SpotCheck",
    "User",
    "UserRegion",
    "Visit",
    "VisitResult",
    "WorkflowVersion",
]
