"""What users read for a checklist code: a node's name, an item's name, a danger point's words.

Photos and danger points carry codes ("site.safety", "wall.crack"); the pages and the API show
the names the templates give them, never the codes. Read once per process from the repo's
templates: a code keeps its meaning across versions.
"""

from dataclasses import dataclass
from functools import cache

from backend.services.checklists.parser import load_all

# A photo whose visit never arrived (its draft was discarded on the phone after it was sent).
UNFILED_LABEL = "未归入检查记录"


@dataclass(frozen=True)
class Names:
    nodes: dict[str, str]
    items: dict[str, str]
    danger_points: dict[str, str]  # code → "承重墙体：裂缝"

    def node(self, code: str | None) -> str | None:
        return None if not code else self.nodes.get(code, "其他节点")

    def item(self, code: str | None) -> str | None:
        return None if not code else self.items.get(code, "其他检查项")

    def danger_point(self, code: str) -> str:
        return self.danger_points.get(code, "其他危险点")


@cache
def names() -> Names:
    nodes, items, points = {}, {}, {}
    for spec in load_all():
        for _node, item in spec.iter_items():
            items.setdefault(item.code, item.name)
        for node in spec.nodes:
            nodes.setdefault(node.code, node.name)
        for point in spec.danger_points:
            points.setdefault(point.code, f"{point.component}：{point.label}")
    return Names(nodes, items, points)
