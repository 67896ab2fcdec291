"""County workflows in the database: load the repo's files as frozen versions, and find the one
a case follows (the version it began on, else its county's newest, else the default)."""

import hashlib
import json

from sqlalchemy import select

from backend.models import Case, WorkflowVersion
from backend.services import versioned
from backend.services.workflow.calendar import add_months, deadline
from backend.services.workflow.spec import WorkflowSpec, load_all, parse_workflow

DEFAULT_CODE = "default"
_specs: dict[str, WorkflowSpec] = {}  # by the stored JSON's digest


WorkflowVersionChanged = versioned.VersionChanged


def load_workflows(session, specs: list[WorkflowSpec] | None = None,
                   raw: list[dict] | None = None) -> list[str]:
    """Store every workflow file whose version is new (the JSON as written, which is what a
    case's version keeps); return 'code vN' for each one added."""
    entries = list(zip(specs, raw, strict=True)) if specs is not None else load_all()
    added = versioned.store_new_versions(session, WorkflowVersion, entries)
    pin_cases(session)
    return added


def pin_cases(session) -> int:
    """Give each case that has no procedure yet (one that came before the procedure, 0005)
    its county's current workflow and its stage's due date; return how many."""
    pinned = 0
    for case in session.scalars(select(Case).where(Case.workflow_id.is_(None))):
        _, spec = workflow_of(session, case)
        stage = spec.stage(case.status)
        if stage is not None and case.due_on is None and case.stage_entered_on is not None:
            if stage.type == "works_start":
                case.due_on = add_months(case.stage_entered_on, stage.start_within_months).on
            elif stage.due_days:
                case.due_on = deadline(case.stage_entered_on, stage.due_days,
                                       working=stage.working_days).on
        pinned += 1
    session.commit()
    return pinned


def workflow_of(session, case: Case) -> tuple[WorkflowVersion, WorkflowSpec]:
    version = session.get(WorkflowVersion, case.workflow_id) if case.workflow_id else None
    if version is None:
        version = county_workflow(session, case.village_code[:6] + "000000")
        case.workflow_id = version.id
    return version, spec_of(version)


def county_workflow(session, county_code: str) -> WorkflowVersion:
    """The newest version of the county's workflow, else of the default."""
    newest: dict[str, WorkflowVersion] = {}
    for row in session.scalars(select(WorkflowVersion).order_by(WorkflowVersion.version)):
        newest[row.code] = row  # a handful of rows: the last of each code is its newest
    for row in newest.values():
        if county_code in spec_of(row).counties:
            return row
    if DEFAULT_CODE not in newest:
        raise LookupError("no workflow loaded: run `flask load-workflows`")
    return newest[DEFAULT_CODE]


def spec_of(version: WorkflowVersion) -> WorkflowSpec:
    key = hashlib.sha256(json.dumps(version.spec, sort_keys=True).encode()).hexdigest()
    if key not in _specs:
        _specs[key] = parse_workflow(version.spec, origin=f"{version.code} v{version.version}")
    return _specs[key]
