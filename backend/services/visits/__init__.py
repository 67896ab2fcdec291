"""Visits (检查记录): recording one from the phone (`recording`), a supervisor's review of it
(`review`), and reading visits and rectifications (`queries`).
"""

from backend.services.visits.inputs import VisitInput
from backend.services.visits.queries import (
    get_visit,
    list_rectifications,
    list_visits,
    missing_photos,
    with_gaps,
)
from backend.services.visits.recording import VisitRules, body_hash, record_visit
from backend.services.visits.review import review_visit

__all__ = ["VisitInput", "VisitRules", "body_hash", "get_visit", "list_rectifications",
           "list_visits", "missing_photos", "record_visit", "review_visit", "with_gaps"]
