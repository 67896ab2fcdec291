"""Renovation cases (改造项目): opening and editing them (`records`), a case's evidence in one
read (`timeline`) and laid out for judging (`dossier`), the desk's overview of an area
(`overview`) and work past the seeds' deadlines (`overdue`).
"""

from backend.services.cases.records import (
    CaseQuery,
    get_case,
    list_cases,
    open_case,
    update_case,
)

__all__ = ["CaseQuery", "get_case", "list_cases", "open_case", "update_case"]
