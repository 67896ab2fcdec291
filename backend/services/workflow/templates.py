"""County workflows in the database: load the repo's files as frozen versions, and find the one
a case follows (the version it began on, else its county's newest, else the default)."""

import hashlib
import json

from sqlalchemy import select

from backend.models import Case, WorkflowVersion
from backend.services.workflow.spec import (
    DEFAULT_DIRECTORY,
    WorkflowSpec,
    load_all,
    parse_workflow,
)

DEFAULT_CODE = "default"
_specs: dict[str, WorkflowSpec] = {}  # by the stored JSON's digest


class WorkflowVersionChanged(ValueError):
    """A file changed its content without a new version number."""


def load_workflows(session, specs: list[WorkflowSpec] | None = None,
                   raw: list[dict] | None = None) -> list[str]:
    """Store every workflow file whose version is new; return 'code vN' for each one added.

    A stored version never changes: a file edited without raising its `version` is refused,
    so a case keeps following the procedure it began on.
    """
    added = []
    pairs = [(s, d) for s, d in zip(specs, raw, strict=True)] if specs is not None else [
        (s, _read(DEFAULT_DIRECTORY / f"{s.code}.json")) for s in load_all()]
    for spec, data in pairs:
        stored = session.scalar(select(WorkflowVersion).where(
            WorkflowVersion.code == spec.code, WorkflowVersion.version == spec.version))
        if stored is None:
            session.add(WorkflowVersion(code=spec.code, version=spec.version, name=spec.name,
                                        spec=data))
            added.append(f"{spec.code} v{spec.version}")
        elif stored.spec != data:
            raise WorkflowVersionChanged(
                f"workflow {spec.code} v{spec.version} changed; raise its version number")
    session.commit()
    return added


def _read(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


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
