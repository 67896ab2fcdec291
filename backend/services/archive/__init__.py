"""A household's archive (一户一档): its paper record form with every field (003 附件2
农户纸质档案表), the procedure, the money and the photos before, during and after the works
(`contents`), the archive's completeness against 004 §五(四) (`completeness`), rendered as a
PDF (`pdf`), and a town's archives for a year streamed as one ZIP (`bundle`).
"""

from backend.services.archive.contents import HouseholdArchive, household_archive

__all__ = ["HouseholdArchive", "household_archive"]
