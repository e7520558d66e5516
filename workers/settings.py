"""arq WorkerSettings — the one place for the worker's functions, cron jobs and Redis settings.

`dealerdesk worker` runs `WorkerSettings`. Every job leaves one structlog line
saying what it did (the small dict each job returns). SIGTERM/SIGINT stop taking
jobs and give running ones `job_completion_wait` seconds before cancelling them;
a cancelled timer job rolls back and its timer stays pending for the sweeper.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable

import structlog
from arq import cron, func

from crm import health
from crm.logs import configure_logging
from crm.queue import job_deserializer, job_serializer, redis_settings, use_queue
from crm.reports.service import MAX_TRIES as REPORT_TRIES
from crm.settings import get_settings
from crm.timers.registry import handled_kinds, register_extra_modules
from crm.wiring import connect_all
from workers import analytics, callbacks, imports, notify, reports, timers

configure_logging()
log = structlog.get_logger("dealerdesk.worker")


async def ping(ctx: dict) -> dict:
    return {"pong": 1}


async def startup(ctx: dict) -> None:
    from crm.db import start_pool
    from crm.privacy import vault
    from crm.timers import runner

    vault.get_keys()  # refuse to start without the keys of customers' personal data
    await start_pool(max_size=20)
    use_queue(ctx["redis"])
    connect_all()
    register_extra_modules()
    kinds = handled_kinds()
    # Catch up at once rather than at the first cron tick: whatever came due while no worker ran.
    groups = get_settings().timer_groups
    swept = await runner.sweep(groups=groups)
    promoted = await runner.promote(groups=groups)
    await health.beat()
    log.info("worker_started", timer_kinds=kinds, timer_groups=groups or "all", **swept, **promoted)


async def shutdown(ctx: dict) -> None:
    from crm.db import stop_pool
    from crm.reports.render import shutdown_renderer

    shutdown_renderer()
    await stop_pool()
    log.info("worker_stopped")


async def job_start(ctx: dict) -> None:
    ctx["started"] = time.monotonic()


async def job_end(ctx: dict) -> None:
    """One line per job: which, how long, and the counts it returned."""
    log.info(
        "job_done",
        function=ctx.get("function"),
        job_id=ctx.get("job_id"),
        job_try=ctx.get("job_try"),
        seconds=round(time.monotonic() - ctx.get("started", time.monotonic()), 4),
        **ctx.get("did", {}),
    )


def reporting(job: Callable[..., Awaitable[dict]]) -> Callable[..., Awaitable[dict]]:
    """Keep a job's returned dict in its ctx for `job_end` (arq passes the same ctx to both)."""

    @functools.wraps(job)
    async def run(ctx: dict, *args, **kwargs) -> dict:
        ctx["function"] = job.__name__
        ctx["did"] = result = await job(ctx, *args, **kwargs)
        return result

    return run


def _every(seconds: int) -> dict:
    """Cron fields for "every N seconds" (N divides 60) or "every N minutes"."""
    if seconds < 60:
        return {"second": set(range(0, 60, seconds))}
    return {"second": {0}, "minute": set(range(0, 60, max(seconds // 60, 1)))}


def _functions() -> list:
    return [
        func(reporting(ping), keep_result=0),
        # Short timeout: after a crash arq retries only when the in-progress key expires (timeout + 10 s).
        func(reporting(timers.fire_timer), timeout=30, keep_result=0, max_tries=5),
        func(reporting(notify.deliver_notification), timeout=60, keep_result=0, max_tries=3),
        # Rendering runs in a child process (crm.reports.render); the job waits for it without blocking the loop.
        func(reporting(reports.render_report), timeout=600, keep_result=0, max_tries=REPORT_TRIES),
        # One try per arq job: a job whose worker died is queued again by `sweep_import_jobs` (heartbeat).
        func(reporting(imports.run_import), timeout=1800, keep_result=0, max_tries=1),
    ]


def _cron_jobs() -> list:
    every = _every(get_settings().timer_sweep_seconds)
    return [
        cron(reporting(timers.sweep_timers), timeout=120, keep_result=0, **every),
        cron(reporting(timers.promote_timers), timeout=120, keep_result=0, **every),
        cron(reporting(notify.deliver_due_notifications), timeout=120, keep_result=0, **every),
        # The dashboards' rollups trail the raw rows by at most one sweep interval.
        cron(reporting(imports.sweep_import_jobs), timeout=120, keep_result=0, **every),
        cron(reporting(analytics.refresh_rollups), timeout=300, keep_result=0, **every),
        # 01:05 and 13:05 Beijing time; planning is idempotent, the second run catches a missed first.
        # Every half hour: each group's 1st of the month from 06:00 local time (any UTC offset) plans last month's
        # reports once (unique per kind, store and month).
        cron(reporting(reports.plan_monthly_reports), timeout=300, keep_result=0, minute={0, 30}, second=0),
        cron(reporting(callbacks.plan_care_calls), timeout=1800, keep_result=0, hour={5, 17}, minute=5, second=0),
    ]


class WorkerSettings:
    functions = _functions()
    cron_jobs = _cron_jobs()
    redis_settings = redis_settings()
    job_serializer = job_serializer
    job_deserializer = job_deserializer
    on_startup = startup
    on_shutdown = shutdown
    on_job_start = job_start
    on_job_end = job_end
    health_check_interval = 30
    job_timeout = 60
    job_completion_wait = 20
    # arq takes at most `max_jobs - running` jobs per poll and sleeps `poll_delay` between polls, which caps a
    # worker at max_jobs / poll_delay jobs per second: 1,000/s here (see bench/RESULTS.md, issue 3).
    max_jobs = 100
    poll_delay = 0.1
