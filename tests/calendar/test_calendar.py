"""The business calendar: 调休 working Saturdays, public holidays, quiet hours, working hours, lunar dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from crm.calendar.service import BusinessCalendar, lunar_to_solar, next_lunar_birthday

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_library_marks_the_2026_spring_festival_make_up_saturdays():
    # 2026 春节: holiday 2-15..2-23, with Saturdays 2-14 and 2-28 as make-up working days (调休)
    assert chinese_calendar.is_workday(dt.date(2026, 2, 14)) and chinese_calendar.is_workday(dt.date(2026, 2, 28))
    assert dt.date(2026, 2, 14).weekday() == 5 == dt.date(2026, 2, 28).weekday()


def test_working_days_follow_holidays_and_make_up_days():
    assert CAL.is_working_day(dt.date(2026, 2, 14))  # 调休 Saturday
    assert not CAL.is_working_day(dt.date(2026, 2, 16))  # Monday inside 春节
    assert not CAL.is_working_day(dt.date(2026, 3, 7))  # ordinary Saturday
    assert CAL.is_public_holiday(dt.date(2026, 2, 16)) and not CAL.is_public_holiday(dt.date(2026, 3, 7))
    assert CAL.is_working_day(dt.date(2099, 3, 2)) and not CAL.is_working_day(dt.date(2099, 3, 1))  # beyond the data


def test_quiet_hours_move_contact_to_the_next_window():
    assert CAL.next_contact_time(at(2026, 3, 3, 22, 30)) == at(2026, 3, 4, 9, 0)  # night → next morning
    assert CAL.next_contact_time(at(2026, 3, 4, 6, 0)) == at(2026, 3, 4, 9, 0)
    assert CAL.next_contact_time(at(2026, 3, 4, 11, 15)) == at(2026, 3, 4, 11, 15)  # within the window: unchanged
    assert not CAL.is_contact_time(at(2026, 3, 4, 20, 0)) and CAL.is_contact_time(at(2026, 3, 4, 19, 59))


def test_holidays_are_quiet_but_a_make_up_saturday_is_a_contact_day():
    # Friday night before the 调休 Saturday: the next window is that Saturday morning
    assert CAL.next_contact_time(at(2026, 2, 13, 21, 0)) == at(2026, 2, 14, 9, 0)
    # Saturday night: Sunday 2-15 starts 春节, so nobody is called until the first working day after it
    assert CAL.next_contact_time(at(2026, 2, 14, 20, 30)) == at(2026, 2, 24, 9, 0)
    holidays_ok = BusinessCalendar(contact_on_holidays=True)
    assert holidays_ok.next_contact_time(at(2026, 2, 14, 20, 30)) == at(2026, 2, 15, 9, 0)


def test_ordinary_weekends_are_contact_days_unless_switched_off():
    assert CAL.next_contact_time(at(2026, 3, 7, 10, 0)) == at(2026, 3, 7, 10, 0)
    weekdays_only = BusinessCalendar(contact_on_weekends=False)
    assert weekdays_only.next_contact_time(at(2026, 3, 7, 10, 0)) == at(2026, 3, 9, 9, 0)
    # the 调休 Saturday is a working day, so it stays a contact day even then
    assert weekdays_only.next_contact_time(at(2026, 2, 28, 10, 0)) == at(2026, 2, 28, 10, 0)


def test_working_hours_skip_nights_weekends_and_holidays_but_count_make_up_days():
    assert CAL.add_working_hours(at(2026, 3, 4, 10, 0), 2) == at(2026, 3, 4, 12, 0)
    assert CAL.add_working_hours(at(2026, 3, 6, 17, 0), 3) == at(2026, 3, 9, 10, 30)  # Fri → Mon
    assert CAL.add_working_hours(at(2026, 2, 13, 17, 0), 3) == at(2026, 2, 14, 10, 30)  # → 调休 Saturday
    assert CAL.add_working_hours(at(2026, 2, 14, 17, 0), 3) == at(2026, 2, 24, 10, 30)  # over 春节
    assert CAL.add_working_hours(at(2026, 3, 4, 7, 0), 24) == at(2026, 3, 6, 13, 30)  # 9.5 h a day: 9.5 + 9.5 + 5


def test_calendar_and_working_days():
    assert CAL.add_calendar_days(at(2026, 2, 13, 15, 0), 3) == at(2026, 2, 16, 15, 0)
    assert CAL.add_working_days(at(2026, 2, 13, 15, 0), 2) == at(2026, 2, 24, 15, 0)
    assert CAL.add_calendar_days(at(2026, 3, 1, 1, 0), 1).tzinfo == dt.timezone.utc


def test_timezone_of_the_store_is_used():
    urumqi = BusinessCalendar(tz=ZoneInfo("Asia/Urumqi"))
    moment = dt.datetime(2026, 3, 4, 1, 30, tzinfo=dt.timezone.utc)  # 09:30 Shanghai, 07:30 Urumqi
    assert CAL.is_contact_time(moment) and not urumqi.is_contact_time(moment)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        CAL.next_contact_time(dt.datetime(2026, 3, 4, 10, 0))


def test_lunar_birthdays():
    assert lunar_to_solar(2026, 1, 1) == dt.date(2026, 2, 17)  # 春节 2026
    assert lunar_to_solar(2025, 8, 15) == dt.date(2025, 10, 6)  # 中秋 2025
    assert lunar_to_solar(2025, 6, 1, leap=True) == dt.date(2025, 7, 25)  # 闰六月
    assert lunar_to_solar(2026, 6, 1, leap=True) == lunar_to_solar(2026, 6, 1)  # no leap month that year
    assert next_lunar_birthday(8, 15, on_or_after=dt.date(2026, 1, 1)) == dt.date(2026, 9, 25)
    assert next_lunar_birthday(1, 1, on_or_after=dt.date(2026, 2, 18)) == dt.date(2027, 2, 6)
    # day 30 in a year whose month has 29 days falls on the month's last day
    assert lunar_to_solar(2026, 12, 30) >= lunar_to_solar(2026, 12, 29)


def test_overrides_come_before_the_library_and_an_unknown_year_is_logged_once(caplog):
    from crm.calendar import service

    # 2024-10-07 is 国庆 in the library; a group override makes it a workday, and adds 2040's Spring Festival.
    cal = BusinessCalendar(overrides={dt.date(2024, 10, 7): "workday", dt.date(2040, 2, 13): "holiday"})
    assert cal.is_working_day(dt.date(2024, 10, 7)) and not cal.is_public_holiday(dt.date(2024, 10, 7))
    assert not cal.is_working_day(dt.date(2040, 2, 13)) and cal.is_public_holiday(dt.date(2040, 2, 13))
    assert cal.covers(2040) and not cal.covers(2041) and cal.covers(2026)
    service._warned_years.discard(2041)
    with caplog.at_level("WARNING", logger="crm.calendar.service"):
        assert cal.is_working_day(dt.date(2041, 3, 4)) and cal.is_working_day(dt.date(2041, 3, 5))
        assert not cal.is_public_holiday(dt.date(2041, 3, 6))
    assert [r.getMessage()[:36] for r in caplog.records] == ["holiday schedule for 2041 unknown (c"]
