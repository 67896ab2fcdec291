"""The position plot of one case: the house, each photo's phone fix (with its accuracy) and EXIF
point, and the visits' own fixes, laid out in ground metres over optional slippy-map tiles.
"""

import math
from dataclasses import dataclass

from backend.models.base import china_date
from backend.services.cases.dossier import CaseDossier
from backend.services.geo import wgs84_to_gcj02

EARTH_RADIUS_M = 6_378_137.0  # Web Mercator sphere
RINGS_M = (50, 100, 200)
PLOT_PX = 640
NEAR_M = 300  # farther than this from the house, a photo is an outlier of the house's plot
# Outliers are pulled in to this share of the half-width: clear of the north arrow, the scale
# bar and the frame's edge, with room for their label.
EDGE = 0.8


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

    @property
    def label_left(self) -> bool:
        """Write the label on the house's side of a point in the right half, so it stays in
        the frame."""
        x = self.x if self.x is not None else self.exif_x
        return x is not None and x > 0


@dataclass
class Plot:
    extent: float  # half-width in metres around the house
    rings: tuple[int, ...]
    points: list[PlotPoint]
    visits: list[PlotPoint]
    tiles: list[dict]
    crs: str
    has_house: bool


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
    extent = max(60.0, min(5000.0, extent))
    points = [_clip(_photo_point(view, to_xy), extent) for view in photos]
    visits = []
    for visit in review.timeline.visits:
        if visit.device_lat is not None and visit.device_lon is not None:
            x, y = to_xy(visit.device_lat, visit.device_lon)
            label = china_date(visit.started_at).isoformat()
            visits.append(_clip(PlotPoint(0, label, x, y, visit.device_accuracy_m), extent))
    tiles = _tiles(tile_url, cx, cy, scale, extent) if tile_url else []
    return Plot(extent, RINGS_M, points, visits, tiles, "GCJ-02" if gcj else "WGS-84",
                household.has_location)


def house_scale(reach: list[float]) -> float:
    """The frame's half-width: wide enough for the photos taken at the house, not for one
    taken far away (an 813 m photo would shrink the others into a pile). Photos beyond
    NEAR_M are outliers, drawn at the frame's edge with their distance; only when every
    photo is far does the frame grow to them."""
    near = [d for d in reach if d <= NEAR_M]
    return max(240.0, min(2000.0, max(near or reach, default=0) * 1.15))


def _photo_point(view, to_xy) -> PlotPoint:
    """A photo at the phone's fix (with its EXIF point beside it), else at its EXIF point."""
    p = view.photo
    flagged = any(f.status != "dismissed" for f in p.flags)
    label = f"{view.number}"
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
