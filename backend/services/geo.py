"""Positions: great-circle distance and the WGS-84 / GCJ-02 / BD-09 conversions of Chinese maps.

Every function takes and returns (lat, lon) in decimal degrees, latitude first; 高德 and 百度 APIs
write longitude first. Store WGS-84 as received and convert only to draw on a GCJ-02 (高德, 腾讯) or
BD-09 (百度) base map, or to bring a point picked on such a map back to WGS-84 before measuring.
The shift formulas are the public eviltransform / coordtransform ones.
"""

import math

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius

_A = 6_378_245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses it
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0


def valid_position(lat: object, lon: object) -> bool:
    """Tell whether lat/lon are finite numbers inside [-90, 90] x [-180, 180]."""
    for value, limit in ((lat, 90.0), (lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or abs(value) > limit:
            return False
    return True


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in metres between two points in the same datum."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def out_of_china(lat: float, lon: float) -> bool:
    """Tell whether a point lies outside the box where GCJ-02 shifts positions."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Shift a WGS-84 point to GCJ-02 (unchanged outside China)."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _shift(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Undo the GCJ-02 shift by fixed-point iteration (error far below a millimetre)."""
    if out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(10):  # the shift varies slowly, so each step gains ~5 digits
        dlat, dlon = _shift(wlat, wlon)
        err_lat, err_lon = wlat + dlat - lat, wlon + dlon - lon
        wlat, wlon = wlat - err_lat, wlon - err_lon
        if abs(err_lat) < 1e-10 and abs(err_lon) < 1e-10:
            break
    return wlat, wlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Convert GCJ-02 to Baidu's BD-09."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Convert Baidu's BD-09 to GCJ-02."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def _shift(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
            + 0.2 * math.sqrt(abs(x)) + _waves(x)
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * math.pi)
               + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
            + 0.1 * math.sqrt(abs(x)) + _waves(x)
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * math.pi)
               + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = math.radians(lat)
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def _waves(x: float) -> float:
    return (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
