"""Scheduling and cancelling timers, inside the caller's transaction.

A timer is a row; Redis only holds the ones due soon (within the promotion
horizon), as arq jobs `fire_timer` with the id `timer:<id>:<version>`, enqueued
after the caller's transaction commits. The rest are promoted into Redis as they
approach (`crm.timers.runner.promote`), and the sweeper fires anything due that
Redis lost — so a deadline is never missed, only (at worst) one sweep late.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from crm import clock
from crm.db import after_commit
from crm.db import is_postgres
from crm.queue import enqueue_after_commit, enqueue_many, forget_jobs
from crm.settings import get_settings
from crm.timers.registry import require_handler
from crm.timers.tables import Timer

FIRE_JOB = "fire_timer"


async def schedule_timer(
    *,
    kind: str,
    due_at: datetime,
    group_id: int,
    store_id: int | None,
    subject_type: str,
    subject_id: int,
    payload: dict | None = None,
) -> int:
    """Create a pending timer; returns its id. Call inside `crm.db.transaction()`."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    require_handler(kind)
    now = clock.now()
    due_at = due_at.astimezone(timezone.utc)
    soon = due_at <= now + horizon()
    rows = await Timer.insert(
        Timer(
            group=group_id,
            store=store_id,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=json.dumps(payload or {}, ensure_ascii=False),
            due_at=due_at,
            state="pending",
            enqueued_at=now if soon else None,
            version=1 if soon else 0,
            created_at=now,
        )
    ).returning(Timer.id)
    timer_id = rows[0]["id"]
    if soon:
        await enqueue_after_commit(FIRE_JOB, timer_id, job_id=job_id(timer_id, 1), defer_until=due_at)
    return timer_id


async def schedule_timers(
    *,
    kind: str,
    group_id: int,
    store_id: int | None,
    subject_type: str,
    due: list[tuple[int, datetime]],
    enqueue: bool = True,
) -> int:
    """Pending timers for many subjects `(subject_id, due_at)` at once, in one statement; returns how many.

    As `schedule_timer`: those due within the horizon are marked enqueued and sent to arq after
    commit (unless `enqueue` is off, for bulk imports the promoter catches up with); the rest wait
    in the database for the promoter. Call inside `crm.db.transaction()`.
    """
    if not due:
        return 0
    require_handler(kind)
    now = clock.now()
    soon = now + horizon()
    values = [(subject_id, due_at, now if enqueue and due_at <= soon else None, 1 if enqueue and due_at <= soon else 0)
              for subject_id, due_at in due]
    if is_postgres():
        sql = (
            'INSERT INTO timer ("group", store, kind, subject_type, payload, state, attempts, last_error, '
            "created_at, subject_id, due_at, enqueued_at, version) "
            "SELECT {}, {}, {}, {}, {}::json, 'pending', 0, '', {}, * "
            "FROM unnest({}::bigint[], {}::timestamptz[], {}::timestamptz[], {}::int[]) "
            "RETURNING id, due_at, version, enqueued_at"
        )
        timers = await Timer.raw(sql, group_id, store_id, kind, subject_type, "{}", now,
                                 *[list(column) for column in zip(*values)])
    else:
        timers = await Timer.insert(*[
            Timer(group=group_id, store=store_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
                  payload="{}", due_at=due_at, state="pending", enqueued_at=enqueued_at, version=version,
                  created_at=now)
            for subject_id, due_at, enqueued_at, version in values
        ]).returning(Timer.id, Timer.due_at, Timer.version, Timer.enqueued_at)
    jobs = [(job_id(t["id"], t["version"]), t["due_at"], (t["id"],)) for t in timers if t["enqueued_at"]]
    if jobs:
        await after_commit(lambda: enqueue_many(FIRE_JOB, jobs))
    return len(timers)


async def cancel_timers(*, subject_type: str, subject_id: int, kinds: Iterable[str] | None = None) -> int:
    """Cancel the subject's pending timers (of `kinds`, or all); returns how many were cancelled."""
    query = Timer.update({Timer.state: "cancelled", Timer.cancelled_at: clock.now()}).where(
        Timer.subject_type == subject_type, Timer.subject_id == subject_id, Timer.state == "pending"
    )
    if kinds is not None:
        kinds = list(kinds)
        if not kinds:
            return 0
        query = query.where(Timer.kind.is_in(kinds))
    rows = await query.returning(Timer.id, Timer.version, Timer.enqueued_at)
    queued = [job_id(r["id"], r["version"]) for r in rows if r["enqueued_at"] is not None]
    if queued:
        # Only to free Redis early: a job of a cancelled timer finds it cancelled and does nothing.
        await after_commit(lambda: forget_jobs(queued))
    return len(rows)


async def reschedule_timer(
    *,
    kind: str,
    due_at: datetime,
    group_id: int,
    store_id: int | None,
    subject_type: str,
    subject_id: int,
    payload: dict | None = None,
) -> int:
    """Move a deadline: cancel the subject's pending timers of this kind and schedule the new one."""
    await cancel_timers(subject_type=subject_type, subject_id=subject_id, kinds=[kind])
    return await schedule_timer(
        kind=kind, due_at=due_at, group_id=group_id, store_id=store_id,
        subject_type=subject_type, subject_id=subject_id, payload=payload,
    )


async def pending_timers(*, subject_type: str, subject_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    """The subject's pending timers, soonest first (for services and tests that show deadlines)."""
    query = Timer.select(Timer.id, Timer.kind, Timer.due_at, Timer.payload).where(
        Timer.subject_type == subject_type, Timer.subject_id == subject_id, Timer.state == "pending"
    )
    if kind is not None:
        query = query.where(Timer.kind == kind)
    return await query.order_by(Timer.due_at).output(load_json=True)


def horizon() -> timedelta:
    return timedelta(seconds=get_settings().timer_horizon_seconds)


def job_id(timer_id: int, version: int) -> str:
    """A new version per enqueue: arq refuses an id while an old result is kept."""
    return f"timer:{timer_id}:{version}"
