"""Working-day deadlines on China's official calendar (chinese-calendar), 调休 included."""

from datetime import date

from backend.services.workflow.calendar import add_days, add_working_days, deadline


def test_the_national_day_holiday_is_skipped_and_its_make_up_saturday_counts():
    # 2025: 10月1日至8日放假调休；9月28日（星期日）、10月11日（星期六）上班。
    assert add_working_days(date(2025, 9, 26), 3).on == date(2025, 9, 30)  # Sun 28th works
    assert add_working_days(date(2025, 9, 30), 1).on == date(2025, 10, 9)
    assert add_working_days(date(2025, 10, 9), 2).on == date(2025, 10, 11)  # make-up Saturday
    town_review = add_working_days(date(2025, 9, 29), 7)  # 003 §四(三): 7个工作日内
    assert town_review.on == date(2025, 10, 15) and not town_review.estimated


def test_ten_working_days_for_the_departments_span_weekends():
    assert add_working_days(date(2026, 3, 2), 10).on == date(2026, 3, 16)


def test_past_the_known_years_monday_to_friday_stands_in_and_says_so():
    due = add_working_days(date(2026, 12, 30), 3)
    assert due.estimated and due.on == date(2027, 1, 4)  # 31st, then Fri 1st, Mon 4th
    assert "估算" in due.words()
    assert not add_working_days(date(2026, 3, 2), 3).estimated


def test_calendar_days_where_the_seeds_say_days():
    assert add_days(date(2026, 9, 28), 7).on == date(2026, 10, 5)  # holidays count: 七日
    assert deadline(date(2026, 9, 28), 7, working=False).on == date(2026, 10, 5)
    assert deadline(date(2026, 9, 28), 7, working=True).on > date(2026, 10, 5)
