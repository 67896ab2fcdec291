"""Survey rounds (排查轮次): opening, assigning, recording outcomes and closing (`lifecycle`),
coverage and assignments (`progress`), and the XLSX export (`export`).
"""

from backend.services.rounds.lifecycle import (
    RoundSpec,
    add_discovery,
    close_round,
    covers_round,
    open_round,
    reassign,
    record_outcome,
    record_reasons,
    start_round,
)
from backend.services.rounds.progress import (
    assignments,
    available_inspectors,
    get_round,
    list_rounds,
    progress,
    region_names,
    totals_by_round,
)

__all__ = ["RoundSpec", "add_discovery", "assignments", "available_inspectors", "close_round",
           "covers_round", "get_round", "list_rounds", "open_round", "progress", "reassign",
           "record_outcome", "record_reasons", "region_names", "start_round", "totals_by_round"]
