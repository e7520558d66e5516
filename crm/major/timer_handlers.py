"""Timer handlers of major complaints: every ladder level and every re-notification is a timer.

They run inside the transaction that marks the timer fired (crm.timers.runner), so
an alert and "fired" commit together: a level raced by job and sweeper, or
re-run after a killed worker, alerts once.
"""

from __future__ import annotations

from crm.major import alerts, repeats, service
from crm.major.rules import Condition
from crm.timers.registry import FiredTimer


async def report_missing(timer: FiredTimer) -> None:
    """24 h (or the group's delay) after marking and no 《重大投诉事件处理报告》 filed: escalate."""
    await service.escalate(major_id=timer.subject_id, level=int(timer.payload["level"]), group_id=timer.group_id)


async def unresolved(timer: FiredTimer) -> None:
    """A later level (e.g. 48 h) and the complaint still unresolved: escalate again."""
    await service.escalate(major_id=timer.subject_id, level=int(timer.payload["level"]), group_id=timer.group_id)


async def renotify(timer: FiredTimer) -> None:
    """An alert not acknowledged by everyone: send it again to those who have not."""
    await alerts.renotify(alert_id=timer.subject_id, group_id=timer.group_id)


async def forward_missing(timer: FiredTimer) -> None:
    """The filed report was not forwarded to the VP operations and the CEO in time (default 2 h): escalate."""
    await service.escalate_forward(major_id=timer.subject_id, group_id=timer.group_id)


async def repeat_decision_reminder(timer: FiredTimer) -> None:
    """Halfway to the repeat-complaint decision deadline and undecided: remind group customer service."""
    await repeats.remind(check_id=timer.subject_id, group_id=timer.group_id)


async def repeat_decision_overdue(timer: FiredTimer) -> None:
    """The repeat-complaint decision deadline passed undecided: escalate, once."""
    await repeats.escalate(check_id=timer.subject_id, group_id=timer.group_id)


HANDLERS = {
    service.LEVEL_KINDS[Condition.REPORT_MISSING]: report_missing,
    service.LEVEL_KINDS[Condition.UNRESOLVED]: unresolved,
    alerts.RENOTIFY: renotify,
    service.FORWARD_DUE: forward_missing,
    repeats.REMIND: repeat_decision_reminder,
    repeats.DUE: repeat_decision_overdue,
}
