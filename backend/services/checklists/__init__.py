"""Checklist templates: the specs (`specs`), the JSON parser and file loader (`parser`), the
rules a template sets for a visit (`rules`) and the stored, versioned copies (`templates`).
"""

from backend.services.checklists.templates import (
    TemplateVersionChanged,
    find_template,
    latest_templates,
    load_templates,
    spec_of,
)

__all__ = ["TemplateVersionChanged", "find_template", "latest_templates", "load_templates",
           "spec_of"]
