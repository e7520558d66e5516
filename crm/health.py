"""Readiness and operators' figures: is the product keeping its deadlines? Database, Redis, the worker's heartbeat,
overdue timers, the job queue and failed notifications.

The worker's sweeper writes a heartbeat into Redis at each sweep. Not ready (503) when the database or Redis
cannot be reached, when a worker that was beating has gone quiet, or when a pending timer is overdue by
more than `stall_after()` — then deadlines are not being fired, whatever the reason.

The queries here count over every tenant on purpose (an operator watches the whole installation); only numbers
leave this module, never a row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from piccolo.query.functions.aggregate import Count

from crm import clock
from crm.queue import get_queue
from crm.settings import get_settings

HEARTBEAT_KEY = "dealerdesk:worker:heartbeat"


def stall_after() -> timedelta:
    """How late a heartbeat or a timer may be before it counts as a stall: three sweeps, at least a minute."""
    return max(timedelta(seconds=3 * get_settings().timer_sweep_seconds), timedelta(seconds=60))


async def beat() -> None:
    """The worker is alive and its sweeper runs (called after each sweep and at the worker's start)."""
    await (await get_queue()).set(HEARTBEAT_KEY, clock.now().isoformat(), ex=24 * 3600)


async def readiness() -> tuple[bool, dict]:
    """(ready, report): the report says what was checked and how late things are, in seconds."""
    now, limit = clock.now(), stall_after()
    report: dict = {"database": "ok", "redis": "ok", "worker_heartbeat_age_s": None, "oldest_overdue_timer_s": None,
                    "stall_after_s": int(limit.total_seconds())}
    ready = True
    try:
        last_beat = await (await get_queue()).get(HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001 — any failure to reach Redis is the answer here
        report["redis"], ready = "unreachable", False
    else:
        if last_beat:
            age = max(now - datetime.fromisoformat(last_beat.decode()), timedelta(0))
            report["worker_heartbeat_age_s"] = round(age.total_seconds())
            ready &= age <= limit
    try:
        oldest = await _oldest_overdue_timer(now - limit)
    except Exception:  # noqa: BLE001
        report["database"], ready = "unreachable", False
    else:
        if oldest is not None:
            report["oldest_overdue_timer_s"] = round((now - oldest).total_seconds())
            ready = False
    return ready, report


async def operations() -> dict[str, float]:
    """The figures Prometheus scrapes (see api/metrics.py): what is waiting, how late, what failed."""
    from crm.notify.tables import Notification
    from crm.timers.tables import Timer

    now = clock.now()
    queue = await get_queue()
    last_beat = await queue.get(HEARTBEAT_KEY)
    oldest = await _oldest_overdue_timer(now)
    by_status = {
        row["status"]: row["count"]
        for row in await Notification.select(Notification.status, Count()).group_by(Notification.status)
    }
    return {
        "queue_depth": await queue.zcard(queue.default_queue_name),
        "worker_heartbeat_age_seconds": (
            max(now - datetime.fromisoformat(last_beat.decode()), timedelta(0)).total_seconds() if last_beat else -1
        ),
        "timers_overdue": await Timer.count().where(_overdue(now)),
        "timer_lateness_seconds": (now - oldest).total_seconds() if oldest else 0.0,
        "notifications_failed": by_status.get("failed", 0),
        "notifications_waiting": by_status.get("pending", 0) + by_status.get("sending", 0),
    }


def _overdue(before: datetime):
    from crm.timers.tables import Timer

    return (
        (Timer.state == "pending")
        & (Timer.due_at < before)
        & (Timer.retry_at.is_null() | (Timer.retry_at < before))
    )


async def _oldest_overdue_timer(before: datetime) -> datetime | None:
    """The due time of the oldest pending timer that should have fired before `before` (retries included)."""
    from crm.timers.tables import Timer

    row = await Timer.select(Timer.due_at).where(_overdue(before)).order_by(Timer.due_at).first()
    return row["due_at"] if row else None
