"""Firing timers: the arq job, the sweeper and the promoter.

Firing is one conditional UPDATE (`state = 'fired' WHERE id = ? AND state =
'pending'`), in the same transaction as the handler: whoever wins the row acts,
and "fired" commits together with the handler's effect. A worker killed mid-job
rolls both back; the timer stays pending and fires again, its effect once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import structlog

from crm import clock
from crm.db import after_commit, is_postgres, savepoint, transaction
from crm.queue import enqueue_many, get_queue
from crm.timers.registry import FiredTimer, handler_for
from crm.timers.service import FIRE_JOB, horizon, job_id
from crm.timers.tables import Timer

log = structlog.get_logger()

MAX_ATTEMPTS = 8
_RETRY_BASE = timedelta(seconds=30)
_RETRY_CAP = timedelta(hours=1)
# Present while Redis still holds what the promoter put there; gone after FLUSHALL or a Redis without persistence restarted.
QUEUE_MARKER = "dealerdesk:timers:promoted"


async def fire_timer(timer_id: int) -> str:
    """Fire one timer if it is still pending and due. Returns what happened (for the job's log line)."""
    now = clock.now()
    try:
        async with transaction():
            timer = await _claim(timer_id, now)
            if timer is not None:
                await _run_handler(timer)
    except Exception as exc:
        await _record_failure(timer_id, exc)
        return "failed"
    if timer is not None:
        return "fired"
    row = await Timer.select(Timer.state, Timer.due_at).where(Timer.id == timer_id).first()  # tenant: timer worker
    if row is None:
        return "missing"
    if row["state"] == "pending":
        return "not_due"  # early or waiting for a retry: the sweeper fires it when due
    return f"already_{row['state']}"


async def sweep(
    *, batch: int = 200, time_budget: float = 25.0, groups: Collection[int] | None = None
) -> dict[str, int]:
    """Fire every pending timer already due, in batches; safe to run on many workers at once.

    `groups` limits the sweep to those dealer groups' timers (a worker serving a set of
    groups; each test sweeping only its own tenants).

    On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED, so sweepers and
    jobs never wait on each other; on SQLite the IMMEDIATE transaction
    serialises writers. Each timer runs in a savepoint: one failing handler
    does not undo the others.
    """
    fired = failed = 0
    started = time.monotonic()
    while True:
        failures: list[tuple[int, BaseException]] = []
        async with transaction():
            now = clock.now()
            query = (
                Timer.select(Timer.id)  # tenant: timer worker: every tenant's due timers, fired one by one
                .where(_pending_due(now))
                .order_by(Timer.due_at)
                .limit(batch)
            )
            if groups is not None:
                query = query.where(Timer.group.is_in(list(groups)))
            if is_postgres():
                query = query.lock_rows("UPDATE", skip_locked=True)
            ids = [r["id"] for r in await query]
            for timer_id in ids:
                try:
                    async with savepoint():
                        timer = await _claim(timer_id, now)
                        if timer is not None:
                            await _run_handler(timer)
                            fired += 1
                except Exception as exc:
                    failures.append((timer_id, exc))
        for timer_id, exc in failures:
            await _record_failure(timer_id, exc)
        failed += len(failures)
        if len(ids) < batch or time.monotonic() - started > time_budget:
            break
    return {"fired": fired, "failed": failed}


async def promote(*, batch: int = 1000, groups: Collection[int] | None = None) -> dict[str, int]:
    """Put timers due within the horizon into Redis (as deferred `fire_timer` jobs).

    Far-future timers stay in the database only, so Redis memory does not grow
    with them. If Redis lost its data since the last run, every pending timer
    that was held there is promoted again (with a new job id version): all
    groups' timers, since the loss is Redis-wide. `groups` limits the promoting
    itself to those dealer groups' timers, as for `sweep`.
    """
    queue = await get_queue()
    requeued = 0
    if not await queue.exists(QUEUE_MARKER):
        requeued = await _forget_enqueued()
        await queue.set(QUEUE_MARKER, clock.now().isoformat())
    promoted = 0
    while True:
        async with transaction():
            now = clock.now()
            query = (
                Timer.select(Timer.id)  # tenant: timer worker: every tenant's timers due soon
                .where(Timer.state == "pending", Timer.enqueued_at.is_null(), Timer.due_at <= now + horizon())
                .order_by(Timer.due_at)
                .limit(batch)
            )
            if groups is not None:
                query = query.where(Timer.group.is_in(list(groups)))
            if is_postgres():
                query = query.lock_rows("UPDATE", skip_locked=True)
            ids = [r["id"] for r in await query]
            if ids:
                rows = await Timer.update(  # tenant: timer worker, the ids selected above
                    {Timer.enqueued_at: now, Timer.version: Timer.version + 1}
                ).where(Timer.id.is_in(ids)).returning(Timer.id, Timer.version, Timer.due_at)
                jobs = [(job_id(r["id"], r["version"]), r["due_at"], (r["id"],)) for r in rows]
                await after_commit(lambda jobs=jobs: enqueue_many(FIRE_JOB, jobs))
        promoted += len(ids)
        if len(ids) < batch:
            break
    return {"promoted": promoted, "requeued_after_loss": requeued}


async def _forget_enqueued() -> int:
    """Redis lost its jobs: mark the timers it held as not enqueued (all are due within the horizon)."""
    rows = await Timer.update({Timer.enqueued_at: None}).where(  # tenant: timer worker, every tenant's queue state
        Timer.state == "pending", Timer.enqueued_at.is_not_null(), Timer.due_at <= clock.now() + horizon()
    ).returning(Timer.id)
    if rows:
        log.warning("timer_queue_lost", timers=len(rows))
    return len(rows)


def _pending_due(now: datetime):
    return (
        (Timer.state == "pending")
        & (Timer.due_at <= now)
        & (Timer.retry_at.is_null() | (Timer.retry_at <= now))
    )


async def _claim(timer_id: int, now: datetime) -> FiredTimer | None:
    """The conditional update: only one caller gets the row back."""
    # tenant: timer worker: one timer by id; its handler restricts by the timer's group and store
    rows = await Timer.update(
        {Timer.state: "fired", Timer.fired_at: now, Timer.attempts: Timer.attempts + 1}
    ).where((Timer.id == timer_id) & _pending_due(now)).returning(
        Timer.id, Timer.kind, Timer.group, Timer.store, Timer.subject_type, Timer.subject_id,
        Timer.payload, Timer.due_at,
    )
    if not rows:
        return None
    row = rows[0]
    payload: Any = row["payload"]
    return FiredTimer(
        id=row["id"],
        kind=row["kind"],
        group_id=row["group"],
        store_id=row["store"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        payload=json.loads(payload) if isinstance(payload, str) else (payload or {}),
        due_at=row["due_at"],
    )


async def _run_handler(timer: FiredTimer) -> None:
    handler = handler_for(timer.kind)
    if handler is None:
        raise LookupError(f"no handler for timer kind {timer.kind!r}")
    await handler(timer)


async def _record_failure(timer_id: int, exc: BaseException) -> None:
    """The handler failed and its transaction rolled back: count the attempt and retry later, or give up."""
    log.warning("timer_handler_failed", timer=timer_id, error=repr(exc), exc_info=exc)
    async with transaction():
        row = await Timer.select(Timer.attempts, Timer.state).where(Timer.id == timer_id).first()  # tenant: timer worker
        if row is None or row["state"] != "pending":
            return
        attempts = row["attempts"] + 1
        delay = min(_RETRY_BASE * 2 ** (attempts - 1), _RETRY_CAP)
        await Timer.update(  # tenant: timer worker, one timer by id
            {
                Timer.attempts: attempts,
                Timer.last_error: repr(exc)[:2000],
                Timer.retry_at: clock.now() + delay,
                Timer.state: "failed" if attempts >= MAX_ATTEMPTS else "pending",
            }
        ).where(Timer.id == timer_id)
