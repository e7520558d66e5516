"""`/health` is readiness: 503 when a pending timer is overdue or a worker that was beating went quiet.

In-process against the suite's PostgreSQL and Redis; the clock travels to 2020 so that no other test's
timers are overdue at that instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from crm import health
from crm.db import transaction
from crm.queue import get_queue
from crm.timers.service import cancel_timers, schedule_timer

LONG_AGO = datetime(2020, 1, 6, 2, 0, tzinfo=UTC)


async def test_health_answers_503_while_a_timer_is_overdue_and_200_once_it_is_handled(client, tenant):
    await (await get_queue()).delete(health.HEARTBEAT_KEY)
    with time_machine.travel(LONG_AGO, tick=False) as traveller:
        ok = await client.get("/health")
        assert ok.status_code == 200, ok.text
        assert ok.json()["database"] == "ok" and ok.json()["redis"] == "ok"
        async with transaction():
            await schedule_timer(kind="test.effect", due_at=LONG_AGO, group_id=tenant.group_id,
                                 store_id=tenant.store_a, subject_type="health-test", subject_id=1)
        traveller.shift(health.stall_after())
        assert (await client.get("/health")).status_code == 200, "due, but not yet late enough to be a stall"
        traveller.shift(timedelta(seconds=1))
        stalled = await client.get("/health")
        assert stalled.status_code == 503
        assert stalled.json()["status"] == "stalled"
        assert stalled.json()["oldest_overdue_timer_s"] == health.stall_after().total_seconds() + 1
        async with transaction():
            await cancel_timers(subject_type="health-test", subject_id=1)
        assert (await client.get("/health")).status_code == 200


async def test_health_answers_503_when_the_worker_heartbeat_goes_quiet(client):
    try:
        with time_machine.travel(LONG_AGO, tick=False) as traveller:
            await health.beat()
            traveller.shift(timedelta(seconds=30))
            fresh = await client.get("/health")
            assert fresh.status_code == 200 and fresh.json()["worker_heartbeat_age_s"] == 30
            traveller.shift(health.stall_after())
            quiet = await client.get("/health")
            assert quiet.status_code == 503
            assert quiet.json()["worker_heartbeat_age_s"] == 30 + health.stall_after().total_seconds()
    finally:
        await (await get_queue()).delete(health.HEARTBEAT_KEY)
