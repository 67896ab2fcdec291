"""What users read of durations and camera times (issue 17): "约 122 天", "2026-12-01 00:15"."""

from types import SimpleNamespace

import pytest

from backend import display


@pytest.mark.parametrize("minutes,words", [
    (12, "12 分钟"), (-40, "40 分钟"), (300, "约 5 小时"), (175109, "约 122 天"), (None, "—")])
def test_durations_read_as_people_say_them(minutes, words):
    assert display.duration_words(minutes) == words


def test_a_clock_skew_flag_reads_as_a_duration():
    flag = SimpleNamespace(code="time_skew", details={"problems": [
        {"kind": "exif_vs_capture", "minutes": 175109}]})
    assert display.flag_detail(flag) == "相机时间与手机时间相差 约 122 天"


def test_camera_time_has_the_pages_one_format():
    assert display.camera_time("2026-12-01T00:15:00") == "2026-12-01 00:15"
    assert display.camera_time(None) == "—"
    assert display.camera_time("坏的时间") == "坏的时间"
