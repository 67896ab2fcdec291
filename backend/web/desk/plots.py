"""The position plot of one case: the house, each photo's phone fix (with its accuracy) and EXIF
point, and the visits' own fixes, laid out in ground metres over optional slippy-map tiles.
"""

import math
import statistics
from dataclasses import dataclass, field

from backend.display import local_time, metres
from backend.services.cases.dossier import CaseDossier
from backend.services.geo import wgs84_to_gcj02
from backend.web.desk.plot_labels import ASCENT, Label, Layout, square, text_box

EARTH_RADIUS_M = 6_378_137.0  # Web Mercator sphere
NICE_M = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)  # rings and scale bars
PLOT_PX = 640
MIN_EXTENT, MAX_EXTENT = 22.0, 5000.0
# A photo is an outlier of the house's plot when it lies farther than this many times the
# median photo's distance (and beyond NEAR_FLOOR_M): the frame is sized without it.
OUTLIER_FACTOR, NEAR_FLOOR_M = 3.0, 30.0
# Markers beyond the frame are pulled in to this share of the half-width: clear of the north
# arrow, the scale bar and the frame's edge, with room for their label.
EDGE = 0.8
DIAGONALS = ((1, -1), (-1, -1), (1, 1), (-1, 1))  # where a ring's label may go, first free
PHOTO_FONT, VISIT_FONT, HOUSE_FONT, RING_FONT = 12, 10, 12, 11  # in u (extent / 300)


@dataclass
class PlotPoint:
    number: int
    label: str
    x: float | None
    y: float | None
    accuracy: float | None = None
    exif_x: float | None = None
    exif_y: float | None = None
    distance_m: float | None = None
    clipped: bool = False
    photo_id: str | None = None
    flagged: bool = False
    text: Label | None = None  # where its label is written (see plot_labels)

    @property
    def anchor(self) -> tuple[float, float]:
        return (self.x, self.y) if self.x is not None else (self.exif_x, self.exif_y)

    @property
    def caption(self) -> str:
        """1, 3!（相机）, 12! → 813 米: number, open flag, camera-only point, distance if
        drawn at the edge."""
        if not self.number:
            return self.label + (" → " + metres(self.distance_m) if self.clipped else "")
        return (f"{self.label}{'!' if self.flagged else ''}{'（相机）' if self.x is None else ''}"
                f"{' → ' + metres(self.distance_m) if self.clipped else ''}")


@dataclass
class Plot:
    extent: float  # half-width in metres around the house
    rings: tuple[int, ...]
    points: list[PlotPoint]
    visits: list[PlotPoint]
    tiles: list[dict]
    crs: str
    has_house: bool
    bar: int = 0  # the scale bar's length in metres
    house_label: Label | None = None
    ring_labels: list[Label] = field(default_factory=list)  # one a ring, in its order


def _mercator(lat: float, lon: float) -> tuple[float, float]:
    lat = max(min(lat, 85.05), -85.05)
    return (EARTH_RADIUS_M * math.radians(lon),
            EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def position_plot(review: CaseDossier, *, tile_url: str | None = None,
                  tile_crs: str = "WGS-84", extent: float | None = None) -> Plot | None:
    """Lay the house and every photo (phone fix with accuracy, EXIF point) out in metres.

    Coordinates are Web Mercator scaled to ground metres at the house, y growing south, so
    tiles of a slippy map line up exactly. For a GCJ-02 tile source every point is shifted
    first, as the tiles are; distances shown are always measured in WGS-84.
    """
    household = review.household
    gcj = tile_url is not None and tile_crs.upper().replace("-", "") == "GCJ02"

    def shift(lat, lon):
        return wgs84_to_gcj02(lat, lon) if gcj else (lat, lon)

    photos = [v for v in review.photos if v.photo.has_device_position
              or v.photo.has_exif_position]
    if household.has_location:
        centre = (household.lat, household.lon)
    elif photos:
        p = photos[0].photo
        centre = (p.device_lat, p.device_lon) if p.has_device_position else (p.exif_lat,
                                                                              p.exif_lon)
    else:
        return None
    lat0 = centre[0]
    scale = math.cos(math.radians(lat0))
    cx, cy = _mercator(*shift(*centre))

    def to_xy(lat, lon):
        mx, my = _mercator(*shift(lat, lon))
        return (mx - cx) * scale, -(my - cy) * scale

    if extent is None:
        extent = house_scale([v.distance_m or 0 for v in photos])
    extent = max(MIN_EXTENT, min(MAX_EXTENT, extent))
    points = [_clip(_photo_point(view, to_xy), extent) for view in photos]
    visits = []
    for visit in review.timeline.visits:
        if visit.device_lat is not None and visit.device_lon is not None:
            x, y = to_xy(visit.device_lat, visit.device_lon)
            label = "检查 " + local_time(visit.started_at, "%Y-%m-%d")
            visits.append(_clip(PlotPoint(0, label, x, y, visit.device_accuracy_m,
                                          distance_m=math.hypot(x, y)), extent))
    tiles = _tiles(tile_url, cx, cy, scale, extent) if tile_url else []
    plot = Plot(extent, rings(extent), points, visits, tiles, "GCJ-02" if gcj else "WGS-84",
                household.has_location, bar=max(n for n in NICE_M if n <= max(0.4 * extent, 5)))
    _place_labels(plot)
    return plot


def house_scale(reach: list[float]) -> float:
    """The frame's half-width, from the photos taken at the house only (an 813 m photo would
    shrink the others into a pile): the smallest ring of NICE_M holding them with a margin,
    plus room for its label. Outliers (see near()) are drawn at the frame's edge with their
    distance; when most photos are far, the frame grows to them."""
    reach = near(reach)
    wanted = max(reach, default=0) * 1.25
    ring = next((n for n in NICE_M if n >= wanted), NICE_M[-1])
    return ring * 1.1


def near(reach: list[float]) -> list[float]:
    """The distances that are not outliers: within OUTLIER_FACTOR × the median (at least
    NEAR_FLOOR_M)."""
    if not reach:
        return []
    bound = max(NEAR_FLOOR_M, OUTLIER_FACTOR * statistics.median_high(reach))
    return [d for d in reach if d <= bound]


def rings(extent: float) -> tuple[int, ...]:
    """The three largest round distances inside the frame."""
    return tuple(n for n in NICE_M if n <= extent)[-3:]


def _place_labels(plot: Plot) -> None:
    """Ring labels on a diagonal clear of the markers; then labels of photos (then visits)
    clear of each other, the house, every marker, the ring labels, the north arrow and the
    scale bar."""
    e, u = plot.extent, plot.extent / 300
    fixed = [square(x, y, 6 * u) for p in plot.points + plot.visits
             for x, y in ((p.x, p.y), (p.exif_x, p.exif_y)) if x is not None]
    if plot.has_house:
        plot.house_label = Label("房屋", 9 * u, 4 * u, text_box(9 * u, 4 * u, "房屋",
                                                            HOUSE_FONT * u))
        fixed += [square(0, 0, 7 * u), plot.house_label.box]
    fixed.append((e - 26 * u, -e, e, -e + 50 * u))  # north arrow and 北
    fixed.append((-e, e - 36 * u, -e + 20 * u + plot.bar, e))  # scale bar and its label
    layout = Layout(e, fixed)
    plot.ring_labels = [layout.first_free([_ring_label(r, sx, sy, u) for sx, sy in DIAGONALS])
                        for r in plot.rings]
    for p in plot.points:
        p.text = layout.place(*p.anchor, p.caption, PHOTO_FONT * u)
    for v in plot.visits:
        v.text = layout.place(v.x, v.y, v.caption, VISIT_FONT * u)


def _ring_label(r: int, sx: int, sy: int, u: float) -> Label:
    """A ring's distance written just outside it on the diagonal (sx, sy) (y grows south)."""
    text, font = f"{r} 米", RING_FONT * u
    width = text_box(0, 0, text, font)[2]
    x = sx * (0.71 * r + 2 * u) - (width if sx < 0 else 0)
    y = sy * (0.71 * r + 2 * u) + (ASCENT * font if sy > 0 else 0)
    return Label(text, x, y, text_box(x, y, text, font))


def _photo_point(view, to_xy) -> PlotPoint:
    """A photo at the phone's fix (with its EXIF point beside it), else at its EXIF point."""
    p = view.photo
    flagged = any(f.status != "dismissed" for f in p.flags)
    label = str(view.number)
    if p.has_device_position:
        x, y = to_xy(p.device_lat, p.device_lon)
        point = PlotPoint(view.number, label, x, y, p.device_accuracy_m,
                          distance_m=view.distance_m, photo_id=p.id, flagged=flagged)
        if p.has_exif_position:
            point.exif_x, point.exif_y = to_xy(p.exif_lat, p.exif_lon)
        return point
    x, y = to_xy(p.exif_lat, p.exif_lon)
    return PlotPoint(view.number, label, None, None, None, x, y, view.distance_m,
                     photo_id=p.id, flagged=flagged)


def _clip(point: PlotPoint, extent: float) -> PlotPoint:
    """Pull a point far outside the frame to its edge, keeping its direction; mark it."""
    limit = extent * EDGE
    for xa, ya in (("x", "y"), ("exif_x", "exif_y")):
        x, y = getattr(point, xa), getattr(point, ya)
        if x is None:
            continue
        biggest = max(abs(x), abs(y))
        if biggest > limit:
            setattr(point, xa, x * limit / biggest)
            setattr(point, ya, y * limit / biggest)
            point.clipped = True
    return point


def _tiles(template: str, cx: float, cy: float, scale: float, extent: float) -> list[dict]:
    """Slippy-map tiles covering the frame, placed in the plot's metre coordinates."""
    world = 2 * math.pi * EARTH_RADIUS_M
    metres_per_px = 2 * extent / PLOT_PX / scale  # in Mercator metres
    zoom = max(1, min(18, round(math.log2(world / 256 / metres_per_px))))
    size = world / 2 ** zoom
    half = extent / scale
    tiles = []
    x0, x1 = (int((cx - half + world / 2) // size), int((cx + half + world / 2) // size))
    y0, y1 = (int((world / 2 - (cy + half)) // size), int((world / 2 - (cy - half)) // size))
    for tx in range(x0, x1 + 1):
        for ty in range(y0, y1 + 1):
            left = tx * size - world / 2
            top = world / 2 - ty * size
            url = (template.replace("{z}", str(zoom)).replace("{x}", str(tx))
                   .replace("{y}", str(ty)).replace("{s}", "abc"[(tx + ty) % 3]))
            tiles.append({"url": url, "x": (left - cx) * scale, "y": -(top - cy) * scale,
                          "size": size * scale})
    return tiles
