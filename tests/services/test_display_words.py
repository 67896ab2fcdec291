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


@pytest.mark.parametrize("before,gap", [
    ("2026-11-20T09:20:00+00:00", "仅相隔 40 分钟"),
    ("2026-11-13T12:24:00+00:00", "仅相隔 6.9 天（少于 7 天）")])
def test_phase_timing_reads_the_gap_between_the_two_photos(before, gap):
    flag = SimpleNamespace(code="phase_timing", details={
        "kind": "after_soon_after_before", "taken_at": "2026-11-20T10:00:00+00:00",
        "before_photo_taken_at": before, "days": 6.9, "limit_days": 7})
    words = display.flag_detail(flag)
    assert gap in words and "改造前照片（拍摄于 " in words
