"""When a callback is due: a rule's offset and window applied to an anchor, inside the store's contact window.

Pure functions of a rule, an anchor and the store's business calendar, so the
single and the bulk scheduling paths compute exactly the same times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from crm.callbacks.rules import DATE_TRIGGERS, DEFAULT_RULES, GREETING_TRIGGERS, Rule


class ContactCalendar(Protocol):
    """What planning needs of `crm.calendar`'s BusinessCalendar."""

    tz: ZoneInfo

    def next_contact_time(self, dt: datetime) -> datetime: ...


@dataclass(frozen=True)
class Plan:
    """One callback to create: what, for whom, and when."""

    kind: str
    channel: str
    survey: str
    source_type: str
    source_id: int
    customer_id: int
    vehicle_id: int | None
    dedupe_key: str
    anchor_at: datetime
    due_at: datetime
    deadline_at: datetime
    max_attempts: int
    retry_minutes: int


def due_window(rule: Rule, anchor_at: datetime, calendar: ContactCalendar) -> tuple[datetime, datetime]:
    """(due_at, deadline_at): the earliest time moved into the next contact window, and the latest on-time moment.

    When the contact window pushes the due time past the rule's latest moment
    (a 2-hour call after a 19:00 delivery, a greeting on a non-contact day), the
    callback keeps a full window after the moved due time. Greetings are welcome on
    holidays and weekends (that is when they are sent); only quiet hours hold them back.
    """
    calendar = contact_calendar(rule.trigger, calendar)
    earliest = anchor_at + timedelta(minutes=rule.offset_minutes)
    due_at = calendar.next_contact_time(earliest).astimezone(timezone.utc)
    deadline_at = earliest + timedelta(minutes=rule.window_minutes)
    if deadline_at <= due_at:
        deadline_at = due_at + timedelta(minutes=rule.window_minutes)
    return due_at, deadline_at.astimezone(timezone.utc)


def contact_calendar(trigger: str, calendar: ContactCalendar) -> ContactCalendar:
    """Greetings are welcome on holidays and weekends; every other contact keeps the store's contact days."""
    if trigger in GREETING_TRIGGERS:
        return replace(calendar, contact_on_holidays=True, contact_on_weekends=True)  # type: ignore[type-var]
    return calendar


def catch_up(planned: Plan, *, now: datetime, calendar: ContactCalendar) -> Plan:
    """A plan whose due time has already passed (a history import, a planner that did not run) is due at the
    next contact time from now — never at night just because it is late."""
    if planned.due_at >= now:
        return planned
    trigger = DEFAULT_RULES[planned.kind].trigger if planned.kind in DEFAULT_RULES else ""
    return replace(planned, due_at=contact_calendar(trigger, calendar).next_contact_time(now).astimezone(timezone.utc))


def retry_time(*, now: datetime, attempts: int, retry_minutes: int, calendar: ContactCalendar) -> datetime:
    """The next attempt after `attempts` unanswered calls: spaced further apart each time, inside the contact window."""
    return calendar.next_contact_time(now + timedelta(minutes=retry_minutes * max(attempts, 1))).astimezone(
        timezone.utc
    )


def date_anchor(day: date, calendar: ContactCalendar) -> datetime:
    """Local midnight of a date (birthdays, holidays, expiry dates), in UTC."""
    return datetime.combine(day, time(0), tzinfo=calendar.tz).astimezone(timezone.utc)


def plan(
    rule: Rule,
    *,
    anchor: datetime | date,
    calendar: ContactCalendar,
    source_type: str,
    source_id: int,
    customer_id: int,
    vehicle_id: int | None,
    dedupe_key: str,
) -> Plan:
    anchor_at = date_anchor(anchor, calendar) if rule.trigger in DATE_TRIGGERS else anchor
    assert isinstance(anchor_at, datetime)
    due_at, deadline_at = due_window(rule, anchor_at, calendar)
    return Plan(
        kind=rule.kind,
        channel=rule.channel,
        survey=rule.survey if rule.channel == "phone" else "",
        source_type=source_type,
        source_id=source_id,
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        dedupe_key=dedupe_key,
        anchor_at=anchor_at.astimezone(timezone.utc),
        due_at=due_at,
        deadline_at=deadline_at,
        max_attempts=rule.max_attempts if rule.channel == "phone" else 1,
        retry_minutes=rule.retry_minutes,
    )


def plans_for_sale(rules: dict[str, Rule], sale: dict, calendar: ContactCalendar) -> list[Plan]:
    """A delivery (交车): the 2-hour, 3-day and 7-day calls and the run-in reminder, as enabled."""
    return [
        plan(rule, anchor=sale["delivered_at"], calendar=calendar, source_type="sale", source_id=sale["id"],
             customer_id=sale["customer"], vehicle_id=sale["vehicle"], dedupe_key=f"sale:{sale['id']}:{rule.kind}")
        for rule in rules.values()
        if rule.enabled and rule.trigger == "delivery"
    ]


def plans_for_visit(rules: dict[str, Rule], visit: dict, calendar: ContactCalendar) -> list[Plan]:
    """A service visit: the callback within 3 days of leaving, and the next-maintenance reminder when a date is known."""
    plans = []
    for rule in rules.values():
        if not rule.enabled:
            continue
        if rule.trigger == "service_visit":
            anchor: datetime | date = visit["left_at"]
        elif rule.trigger == "next_maintenance" and visit.get("next_visit_on"):
            anchor = visit["next_visit_on"]
        else:
            continue
        plans.append(plan(rule, anchor=anchor, calendar=calendar, source_type="service_visit",
                          source_id=visit["id"], customer_id=visit["customer"], vehicle_id=visit["vehicle"],
                          dedupe_key=f"service_visit:{visit['id']}:{rule.kind}"))
    return plans
