"""The region tree, cut to the caller's area."""

from sqlalchemy import select

from backend.models import Region
from backend.services.policy import Actor, in_scope


def region_tree(session, actor: Actor) -> list[dict]:
    """Return the actor's top regions, each with its descendants nested as `children`."""
    rows = session.scalars(select(Region).where(in_scope(actor, Region.code))
                           .order_by(Region.code)).all()
    nodes = {r.code: {"code": r.code, "name": r.name, "level": r.level,
                      "parent_code": r.parent_code, "children": []} for r in rows}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node["parent_code"])
        (parent["children"] if parent else roots).append(node)
    return roots


def villages(session, actor: Actor) -> list[Region]:
    """The villages inside the actor's area, by code."""
    return list(session.scalars(select(Region).where(
        in_scope(actor, Region.code), Region.level == "village").order_by(Region.code)))
