"""Where the position plot writes its labels: next to their marker when there is room, else
moved out along a leader line, never over another label, the house, a marker, the ring
labels, the north arrow, the scale bar or the frame's edge.

Everything is in the plot's metres; `u` is one 300th of the frame's half-width (the unit the
template draws with). Text boxes are estimated from the desk's font (Noto Sans CJK: ascent
1.16 em, descent 0.29 em; Latin glyphs at most 0.62 em wide, CJK 1 em).
"""

import math
from dataclasses import dataclass

ASCENT, DESCENT = 1.16, 0.29
HALO = 1 / 6  # the white outline drawn under every label, as a share of its font size
GAP = 1.5  # u between a label and anything else
RADII = (6, 11, 17, 24, 32, 42, 54, 68, 84)  # u from the marker to the label's near edge
LEADER_FROM = 10  # u: a label moved farther than this gets a line to its marker

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass
class Label:
    text: str
    x: float  # start of the text
    y: float  # baseline
    box: Box
    leader: tuple[float, float, float, float] | None = None  # marker → label edge


def text_width(text: str, font: float) -> float:
    return sum(0.62 if ord(c) < 0x2000 else 1.0 for c in text) * font


def text_box(x: float, baseline: float, text: str, font: float) -> Box:
    """The box a browser gives the text, its halo (the stroke, full width each side) included."""
    h = HALO * font
    return (x - h, baseline - ASCENT * font - h, x + text_width(text, font) + h,
            baseline + DESCENT * font + h)


def hits(a: Box, b: Box, gap: float = 0.0) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0]
                or a[3] + gap <= b[1] or b[3] + gap <= a[1])


class Layout:
    """Labels placed one after another, each where it first fits."""

    def __init__(self, extent: float, obstacles: list[Box]):
        self.u = extent / 300
        self.bounds = (-extent + 3 * self.u, -extent + 3 * self.u,
                       extent - 3 * self.u, extent - 3 * self.u)
        self.taken = list(obstacles)

    def place(self, ax: float, ay: float, text: str, font: float) -> Label:
        """A label for the marker at (ax, ay), preferring the side away from the house."""
        u, halo = self.u, HALO * font
        width, height = text_width(text, font) + 2 * halo, (ASCENT + DESCENT) * font + 2 * halo
        outward = math.atan2(ay, ax) if abs(ax) + abs(ay) > u else -math.pi / 4
        angles = sorted((k * math.pi / 8 for k in range(16)),
                        key=lambda a: abs(math.remainder(a - outward, math.tau)))
        first = None
        for r in RADII:
            for a in angles:
                box = _beside(ax + r * u * math.cos(a), ay + r * u * math.sin(a),
                              math.cos(a), math.sin(a), width, height)
                first = first or box
                if self._free(box):
                    return self._keep(ax, ay, text, font, box, r > LEADER_FROM)
        return self._keep(ax, ay, text, font, first, False)

    def first_free(self, labels: list[Label]) -> Label:
        """The first of these ready-placed labels that fits (else the first), kept."""
        label = next((t for t in labels if self._free(t.box)), labels[0])
        self.taken.append(label.box)
        return label

    def _free(self, box: Box) -> bool:
        b = self.bounds
        if box[0] < b[0] or box[1] < b[1] or box[2] > b[2] or box[3] > b[3]:
            return False
        return not any(hits(box, other, GAP * self.u) for other in self.taken)

    def _keep(self, ax, ay, text, font, box: Box, leader: bool) -> Label:
        self.taken.append(box)
        line = None
        if leader:
            ex, ey = min(max(ax, box[0]), box[2]), min(max(ay, box[1]), box[3])
            line = (ax, ay, ex, ey)
        halo = HALO * font
        return Label(text, box[0] + halo, box[1] + halo + ASCENT * font, box, line)


def _beside(cx: float, cy: float, dx: float, dy: float, width: float, height: float) -> Box:
    """The box whose edge facing the marker touches (cx, cy) in direction (dx, dy)."""
    x0 = cx if dx > 0.3 else cx - width if dx < -0.3 else cx - width / 2
    y0 = cy if dy > 0.3 else cy - height if dy < -0.3 else cy - height / 2
    return (x0, y0, x0 + width, y0 + height)


def square(x: float, y: float, half: float) -> Box:
    return (x - half, y - half, x + half, y + half)
