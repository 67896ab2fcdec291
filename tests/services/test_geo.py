import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.services import geo

BEIJING_STATION_WGS = (39.90105, 116.42079)
BEIJING_STATION_GCJ = (39.90245, 116.42703)  # published test vector (domain.md §6)


def test_one_degree_of_latitude_is_about_111_km():
    assert geo.distance_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(111_195, abs=5)


def test_hundred_metres_north():
    lat2 = 35.0 + math.degrees(100.0 / geo.EARTH_RADIUS_M)
    assert geo.distance_m(35.0, 110.0, lat2, 110.0) == pytest.approx(100.0, abs=1e-6)


def test_longitude_shrinks_with_latitude():
    at_equator = geo.distance_m(0.0, 100.0, 0.0, 101.0)
    at_60 = geo.distance_m(60.0, 100.0, 60.0, 101.0)
    assert at_60 == pytest.approx(at_equator / 2, rel=1e-4)  # great circle, not parallel


def test_distance_is_zero_and_symmetric():
    assert geo.distance_m(36.1, 103.8, 36.1, 103.8) == 0.0
    a = geo.distance_m(36.1, 103.8, 36.2, 103.9)
    assert a == pytest.approx(geo.distance_m(36.2, 103.9, 36.1, 103.8))


def test_antipodes_are_half_the_circumference():
    assert geo.distance_m(0, 0, 0, 180) == pytest.approx(math.pi * geo.EARTH_RADIUS_M)


def test_wgs84_to_gcj02_matches_the_published_vector():
    lat, lon = geo.wgs84_to_gcj02(*BEIJING_STATION_WGS)
    assert geo.distance_m(lat, lon, *BEIJING_STATION_GCJ) < 2.0


def test_offset_in_beijing_is_hundreds_of_metres():
    shift = geo.distance_m(*BEIJING_STATION_WGS, *geo.wgs84_to_gcj02(*BEIJING_STATION_WGS))
    assert 100 < shift < 700


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(18.0, 53.0), lon=st.floats(74.0, 134.0))
def test_gcj02_round_trip_is_under_half_a_metre(lat, lon):
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lat, lon))
    assert geo.distance_m(lat, lon, *back) < 0.5


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(18.0, 53.0), lon=st.floats(74.0, 134.0))
def test_bd09_round_trip_is_within_a_metre(lat, lon):
    back = geo.bd09_to_gcj02(*geo.gcj02_to_bd09(lat, lon))
    assert geo.distance_m(lat, lon, *back) < 1.0


def test_bd09_is_further_shifted():
    gcj = geo.wgs84_to_gcj02(*BEIJING_STATION_WGS)
    assert 500 < geo.distance_m(*gcj, *geo.gcj02_to_bd09(*gcj)) < 1_500


@pytest.mark.parametrize("point", [(48.8566, 2.3522), (40.7128, -74.006), (-33.87, 151.21),
                                   (35.68, 139.69), (60.0, 100.0)])
def test_points_outside_china_are_unchanged(point):
    assert geo.out_of_china(*point)
    assert geo.wgs84_to_gcj02(*point) == point
    assert geo.gcj02_to_wgs84(*point) == point


def test_points_in_china_are_inside_the_box():
    assert not geo.out_of_china(*BEIJING_STATION_WGS)
    assert not geo.out_of_china(39.5, 112.5)  # 山阴, Shanxi


def test_the_box_is_coarse_like_the_standard_algorithm():
    # Seoul and Singapore fall inside the rectangle and get shifted too; callers never convert
    # stored positions, so this only matters when drawing foreign points on a Chinese map.
    assert not geo.out_of_china(37.5665, 126.978)
    assert not geo.out_of_china(1.29, 103.85)


@pytest.mark.parametrize(("lat", "lon", "ok"), [
    (39.9, 116.4, True), (-90, 180, True), (0, 0, True),
    (90.0001, 0, False), (0, -180.5, False), (math.nan, 0, False), (0, math.inf, False),
    (None, 1, False), ("39.9", 116.4, False), (True, 1, False),
])
def test_valid_position(lat, lon, ok):
    assert geo.valid_position(lat, lon) is ok
