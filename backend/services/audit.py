"""Append events to the audit log; the caller's commit makes them durable with the change."""

from backend.models import AuditEvent
from backend.services.policy import Actor


def record(session, actor: Actor | None, action: str, entity: str, entity_id, changes=None) -> None:
    session.add(
        AuditEvent(
            user_id=actor.user_id if actor else None,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            changes=changes or {},
        )
    )


def diff(obj, values: dict) -> dict:
    """Apply `values` to `obj` and return {field: [old, new]} for the fields that changed."""
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_plain(old), _plain(new)]
            setattr(obj, field, new)
    return changes


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
