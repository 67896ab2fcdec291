"""Random spot checks (随机抽查, 003 §七(三)): the draw and its round (`draws`), the sampling
algorithm anyone can rerun (`sampling`), and the sample's XLSX (`export`)."""

from backend.services.spot_checks.draws import (
    DrawSpec,
    SampleRow,
    TownShare,
    Verification,
    draw,
    get_draw,
    list_draws,
    normalise_purpose,
    population_of,
    sample_rows,
    town_shares,
    verify,
)

__all__ = ["DrawSpec", "SampleRow", "Verification", "draw", "get_draw", "list_draws",
           "normalise_purpose", "population_of", "sample_rows", "town_shares", "TownShare",
           "verify"]
