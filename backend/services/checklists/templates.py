"""Checklist templates in the database: load the repo's files as frozen versions, look them up."""

from sqlalchemy import func, select

from backend.models import ChecklistTemplate
from backend.services import versioned
from backend.services.checklists.parser import load_all, parse_template
from backend.services.checklists.specs import TemplateSpec
from backend.services.errors import InvalidInput

TemplateVersionChanged = versioned.VersionChanged


def load_templates(session, specs: list[TemplateSpec] | None = None) -> list[str]:
    """Store every template file whose version is new; return 'code vN' for each one added.

    A visit keeps `spec.to_dict()` of its version, so that form is what is stored and compared.
    """
    return versioned.store_new_versions(session, ChecklistTemplate, [
        (spec, spec.to_dict()) for spec in (specs if specs is not None else load_all())])


def latest_templates(session) -> list[ChecklistTemplate]:
    newest = (select(ChecklistTemplate.code, func.max(ChecklistTemplate.version).label("v"))
              .group_by(ChecklistTemplate.code).subquery())
    return list(session.scalars(
        select(ChecklistTemplate).join(newest, (ChecklistTemplate.code == newest.c.code)
                                       & (ChecklistTemplate.version == newest.c.v))
        .order_by(ChecklistTemplate.code)))


def find_template(session, code: str, version: int | None = None) -> ChecklistTemplate:
    """Return a template version (the newest when no version is given) or refuse the code."""
    stmt = select(ChecklistTemplate).where(ChecklistTemplate.code == code)
    if version is not None:
        stmt = stmt.where(ChecklistTemplate.version == version)
    row = session.scalar(stmt.order_by(ChecklistTemplate.version.desc()).limit(1))
    if row is None:
        raise InvalidInput(f"未知的检查表：{code}" + (f" 第{version}版" if version else ""),
                           fields={"template": "未知的检查表或版本"})
    return row


_specs: dict[tuple[str, int], TemplateSpec] = {}


def spec_of(template: ChecklistTemplate) -> TemplateSpec:
    """Parse a stored template once per process; stored versions never change."""
    key = (template.code, template.version)
    if key not in _specs:
        _specs[key] = parse_template(template.spec,
                                                     origin=f"{template.code} v{template.version}")
    return _specs[key]
