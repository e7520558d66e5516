"""Every rule's timing against the business calendar: quiet hours, a public holiday, a 调休 working Saturday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crm.calendar.service import BusinessCalendar
from crm.callbacks.planning import date_anchor, due_window, plan, retry_time
from crm.callbacks.rules import DATE_TRIGGERS, DEFAULT_RULES, GREETING_TRIGGERS

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Contact window 10:30–20:00 so that the date rules' fixed times (09:00, 10:00) sit in quiet hours too.
CALENDAR = BusinessCalendar(tz=SHANGHAI, contact_start=time(10, 30), contact_end=time(20, 0))
WEEKDAYS_ONLY = BusinessCalendar(tz=SHANGHAI, contact_start=time(10, 30), contact_end=time(20, 0),
                                 contact_on_weekends=False)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def anchor_for(rule, earliest: datetime):
    """The anchor whose rule offset lands on `earliest` (date rules: the date whose offset lands on that day)."""
    if rule.trigger in DATE_TRIGGERS:
        midnight = local(earliest.date(), 0) - timedelta(minutes=rule.offset_minutes)
        # a date rule's time of day is fixed by its offset; only the day can be chosen
        return (midnight + timedelta(days=1)).date() if midnight.time() != time(0) else midnight.date()
    return earliest - timedelta(minutes=rule.offset_minutes)


def earliest_of(rule, anchor) -> datetime:
    start = date_anchor(anchor, CALENDAR) if rule.trigger in DATE_TRIGGERS else anchor
    return (start + timedelta(minutes=rule.offset_minutes)).astimezone(SHANGHAI)


def expected_on(day: date, earliest: datetime) -> datetime:
    """Inside the window as is; before it, the window's start that day."""
    return max(earliest if earliest.date() == day else local(day, 0), local(day, 10, 30))


RULES = sorted(DEFAULT_RULES.values(), key=lambda r: r.kind)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind)
def test_quiet_hours_boundary(rule):
    # Tuesday 16 Sep 2025, an ordinary working week.
    if rule.trigger in DATE_TRIGGERS:
        anchor = anchor_for(rule, local(date(2025, 9, 16), 12))
        earliest = earliest_of(rule, anchor)
        assert earliest.time() < time(10, 30)  # the rule's fixed time of day is quiet under this calendar
        due, _ = due_window(rule, date_anchor(anchor, CALENDAR), CALENDAR)
        assert due == local(earliest.date(), 10, 30)
        return
    at_close = anchor_for(rule, local(date(2025, 9, 16), 20, 0))
    due, deadline = due_window(rule, at_close, CALENDAR)
    assert due == local(date(2025, 9, 17), 10, 30)  # 20:00 is already quiet: next morning
    assert deadline > due
    just_before = at_close - timedelta(minutes=1)
    due, deadline = due_window(rule, just_before, CALENDAR)
    assert due == local(date(2025, 9, 16), 19, 59)
    assert deadline == due + timedelta(minutes=rule.window_minutes)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind)
def test_public_holiday_moves_to_the_first_day_after(rule):
    # 国庆 2025: 1–8 October are holidays (no customer contact by default); 9 October is a working Thursday.
    anchor = anchor_for(rule, local(date(2025, 10, 3), 12))
    start = date_anchor(anchor, CALENDAR) if rule.trigger in DATE_TRIGGERS else anchor
    earliest = earliest_of(rule, anchor)
    assert earliest.date() == date(2025, 10, 3)
    due, deadline = due_window(rule, start, CALENDAR)
    if rule.trigger in GREETING_TRIGGERS:
        assert due == expected_on(date(2025, 10, 3), earliest)  # greetings are sent on the holiday itself
    else:
        assert due == local(date(2025, 10, 9), 10, 30)
    assert deadline > due


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind)
def test_make_up_working_saturday_is_a_contact_day(rule):
    # Saturday 11 Oct 2025 is a 调休 working day; Saturday 18 Oct is an ordinary weekend.
    ordinary_saturday_moves_to = date(2025, 10, 18) if rule.trigger in GREETING_TRIGGERS else date(2025, 10, 20)
    for day, expected_day in ((date(2025, 10, 11), date(2025, 10, 11)), (date(2025, 10, 18), ordinary_saturday_moves_to)):
        anchor = anchor_for(rule, local(day, 12))
        start = date_anchor(anchor, WEEKDAYS_ONLY) if rule.trigger in DATE_TRIGGERS else anchor
        earliest = earliest_of(rule, anchor)
        assert earliest.date() == day
        due, _ = due_window(rule, start, WEEKDAYS_ONLY)
        assert due == expected_on(expected_day, earliest), (rule.kind, day)


def test_window_keeps_its_length_when_the_due_time_is_pushed_past_it():
    rule = DEFAULT_RULES["delivery_care_2h"]
    delivered = local(date(2025, 9, 30), 19)  # 2 h later is 21:00, and then 国庆 begins
    due, deadline = due_window(rule, delivered, CALENDAR)
    assert due == local(date(2025, 10, 9), 10, 30)
    assert deadline == due + timedelta(minutes=rule.window_minutes)


def test_three_day_rules_end_three_days_after_the_anchor():
    for kind in ("delivery_followup_3d", "service_callback_3d"):
        rule = DEFAULT_RULES[kind]
        anchor = local(date(2025, 9, 16), 15)
        due, deadline = due_window(rule, anchor, CALENDAR)
        assert due == local(date(2025, 9, 17), 15)
        assert deadline == local(date(2025, 9, 19), 15)


def test_retries_are_spaced_and_stay_in_the_window():
    now = local(date(2025, 9, 16), 17).astimezone(timezone.utc)
    first = retry_time(now=now, attempts=1, retry_minutes=120, calendar=CALENDAR)
    second = retry_time(now=now, attempts=2, retry_minutes=120, calendar=CALENDAR)
    assert first == local(date(2025, 9, 16), 19)
    assert second == local(date(2025, 9, 17), 10, 30)  # 21:00 is quiet


def test_plan_of_a_date_rule_is_anchored_at_local_midnight():
    rule = DEFAULT_RULES["insurance_renewal_reminder"]
    p = plan(rule, anchor=date(2025, 11, 20), calendar=CALENDAR, source_type="vehicle", source_id=1,
             customer_id=1, vehicle_id=1, dedupe_key="k")
    assert p.anchor_at == local(date(2025, 11, 20), 0)
    assert p.due_at == local(date(2025, 10, 21), 10, 30)
    assert p.max_attempts == rule.max_attempts
