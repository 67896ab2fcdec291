"""Hand-edited JSON files stored as frozen versions: checklist templates and county workflows.

A file is read and parsed with every fault named; its `code` must be its file name. A stored
version never changes: a file edited without raising its `version` is refused, so a visit
keeps reading the template it was filled on and a case the procedure it began on.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select


class VersionChanged(ValueError):
    """A file changed its content without a new version number."""


def read_file(path: str | Path, parse: Callable[..., Any], error: type[ValueError]
              ) -> tuple[Any, dict]:
    """Parse one file with `parse(data, origin=name)`; return (spec, the JSON as read)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(path.name, [f"cannot read the file: {exc}"]) from exc
    spec = parse(data, origin=path.name)
    if spec.code != path.stem:
        raise error(path.name, [f"code {spec.code!r} differs from the file name"])
    return spec, data


def read_directory(directory: str | Path, parse: Callable[..., Any], error: type[ValueError]
                   ) -> list[tuple[Any, dict]]:
    """Every `*.json` file of the directory, ordered by code."""
    return [read_file(p, parse, error) for p in sorted(Path(directory).glob("*.json"))]


def store_new_versions(session, model, entries: list[tuple[Any, dict]]) -> list[str]:
    """Store each (spec, stored JSON) whose version is new; return 'code vN' for each added."""
    added = []
    for spec, data in entries:
        stored = session.scalar(select(model).where(model.code == spec.code,
                                                    model.version == spec.version))
        if stored is None:
            session.add(model(code=spec.code, version=spec.version, name=spec.name, spec=data))
            added.append(f"{spec.code} v{spec.version}")
        elif stored.spec != data:
            raise VersionChanged(
                f"{spec.code} v{spec.version} differs from the stored copy: raise its version")
    session.commit()
    return added
