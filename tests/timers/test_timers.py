"""Timers: scheduling after commit, exactly-once firing, the sweeper, the promoter, cancel/reschedule."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import time_machine

from crm import clock
from crm.db import transaction
from crm.queue import get_queue
from crm.timers import runner
from crm.timers.service import cancel_timers, job_id, pending_timers, reschedule_timer, schedule_timer
from crm.timers.tables import Timer
from tests.support.timer_handlers import effect_count


pytestmark = pytest.mark.usefixtures("effect_table")


async def _schedule(tenant, *, kind="test.effect", due_in=timedelta(minutes=5), subject_id=1, payload=None) -> int:
    async with transaction():
        return await schedule_timer(
            kind=kind, due_at=clock.now() + due_in, group_id=tenant.group_id, store_id=tenant.store_a,
            subject_type="test", subject_id=subject_id, payload=payload,
        )


async def _state(timer_id: int) -> str:
    return (await Timer.select(Timer.state).where(Timer.id == timer_id).first())["state"]


async def _queued(timer_id: int, version: int) -> bool:
    queue = await get_queue()
    return await queue.zscore("arq:queue", job_id(timer_id, version)) is not None


async def test_enqueued_only_after_commit_and_dropped_on_rollback(tenant):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with transaction():
            rolled_back = await schedule_timer(
                kind="test.effect", due_at=clock.now() + timedelta(minutes=1), group_id=tenant.group_id,
                store_id=None, subject_type="test", subject_id=2,
            )
            raise Boom
    assert await Timer.count().where(Timer.id == rolled_back) == 0
    assert not await _queued(rolled_back, 1)

    timer_id = await _schedule(tenant)
    assert await _queued(timer_id, 1)


async def test_far_future_timer_stays_out_of_redis_until_promoted(tenant):
    timer_id = await _schedule(tenant, due_in=timedelta(days=30))
    assert not await _queued(timer_id, 1)
    await runner.promote(groups=[tenant.group_id])
    assert not await _queued(timer_id, 1)
    with time_machine.travel(clock.now() + timedelta(days=29, hours=23), tick=False):
        await runner.promote(groups=[tenant.group_id])
    assert await _queued(timer_id, 1)


async def test_job_and_sweeper_race_fire_once(tenant):
    ids = [await _schedule(tenant, due_in=timedelta(seconds=30), subject_id=i) for i in range(20)]
    with time_machine.travel(clock.now() + timedelta(minutes=1), tick=False):
        mine = [tenant.group_id]
        results = await asyncio.gather(
            runner.sweep(batch=7, groups=mine), *[runner.fire_timer(i) for i in ids], runner.sweep(batch=5, groups=mine)
        )
    assert sum(r == "fired" for r in results[1:-1]) + results[0]["fired"] + results[-1]["fired"] == len(ids)
    for timer_id in ids:
        assert await _state(timer_id) == "fired"
        assert await effect_count(timer_id) == 1


async def test_job_before_due_time_does_nothing(tenant):
    timer_id = await _schedule(tenant, due_in=timedelta(minutes=10))
    assert await runner.fire_timer(timer_id) == "not_due"
    assert await _state(timer_id) == "pending"
    assert await effect_count(timer_id) == 0


async def test_after_flushall_every_due_timer_still_fires(tenant):
    ids = [await _schedule(tenant, due_in=timedelta(minutes=m), subject_id=m) for m in range(1, 6)]
    queue = await get_queue()
    await queue.flushall()
    with time_machine.travel(clock.now() + timedelta(minutes=3), tick=False):
        # notices the loss and puts the timers not yet due back into Redis
        await runner.promote(groups=[tenant.group_id])
        assert await _queued(ids[4], 2)
        await runner.sweep(groups=[tenant.group_id])
    assert [await _state(i) for i in ids[:3]] == ["fired"] * 3
    with time_machine.travel(clock.now() + timedelta(minutes=6), tick=False):
        await runner.sweep(groups=[tenant.group_id])
    for timer_id in ids:
        assert await _state(timer_id) == "fired"
        assert await effect_count(timer_id) == 1


async def test_cancel_and_reschedule(tenant):
    subject = 9001
    first = await _schedule(tenant, due_in=timedelta(minutes=5), subject_id=subject)
    other = await _schedule(tenant, kind="test.fail", due_in=timedelta(minutes=5), subject_id=subject)
    async with transaction():
        second = await reschedule_timer(
            kind="test.effect", due_at=clock.now() + timedelta(minutes=20), group_id=tenant.group_id,
            store_id=tenant.store_a, subject_type="test", subject_id=subject,
        )
    assert await _state(first) == "cancelled"
    assert not await _queued(first, 1)
    assert [t["id"] for t in await pending_timers(subject_type="test", subject_id=subject)] == [other, second]
    with time_machine.travel(clock.now() + timedelta(minutes=10), tick=False):
        assert await runner.fire_timer(first) == "already_cancelled"
    async with transaction():
        assert await cancel_timers(subject_type="test", subject_id=subject) == 2
    with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
        await runner.sweep(groups=[tenant.group_id])
    assert await effect_count(first) == await effect_count(second) == 0


async def test_failing_handler_rolls_back_and_retries_with_backoff(tenant):
    timer_id = await _schedule(tenant, kind="test.fail", due_in=timedelta(seconds=1))
    start = clock.now()
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        assert await runner.fire_timer(timer_id) == "failed"
        assert await runner.sweep(groups=[tenant.group_id]) == {"fired": 0, "failed": 0}  # waits for its retry time
    row = await Timer.select().where(Timer.id == timer_id).first()
    assert row["state"] == "pending" and row["attempts"] == 1 and "on purpose" in row["last_error"]
    assert await effect_count(timer_id) == 0  # the effect rolled back with the failure
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert (await runner.sweep(groups=[tenant.group_id]))["failed"] == 1
    assert (await Timer.select(Timer.attempts).where(Timer.id == timer_id).first())["attempts"] == 2


async def test_sweep_and_promotion_limited_to_groups_leave_other_groups_timers(tenant, other_tenant):
    due_soon = await _schedule(tenant, due_in=timedelta(seconds=30))
    far = await _schedule(tenant, due_in=timedelta(days=3))
    with time_machine.travel(clock.now() + timedelta(days=3), tick=False):
        assert await runner.sweep(groups=[other_tenant.group_id]) == {"fired": 0, "failed": 0}
        assert (await runner.promote(groups=[other_tenant.group_id]))["promoted"] == 0
        assert await _state(due_soon) == await _state(far) == "pending"
        assert not await _queued(far, 1)
        assert await runner.sweep(groups=[tenant.group_id, other_tenant.group_id]) == {"fired": 2, "failed": 0}
    assert await effect_count(due_soon) == await effect_count(far) == 1
