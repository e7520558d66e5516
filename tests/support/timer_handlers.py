"""Timer handlers for the tests: each leaves a row in `test_timer_effect` per run (no uniqueness),
so a test can count how often an effect committed. Imported by the test process and, through
TIMER_HANDLER_MODULES, by worker subprocesses.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from crm.timers.registry import FiredTimer
from crm.timers.tables import Timer

EFFECT_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS test_timer_effect (id SERIAL PRIMARY KEY, timer_id BIGINT, pid INT)"
)


async def record_effect(timer_id: int) -> None:
    await Timer.raw("INSERT INTO test_timer_effect (timer_id, pid) VALUES ({}, {})", timer_id, os.getpid())


async def effect_count(timer_id: int) -> int:
    rows = await Timer.raw("SELECT count(*) AS n FROM test_timer_effect WHERE timer_id = {}", timer_id)
    return rows[0]["n"]


async def effect(timer: FiredTimer) -> None:
    await record_effect(timer.id)


async def fail(timer: FiredTimer) -> None:
    await record_effect(timer.id)
    raise RuntimeError("handler failed on purpose")


async def hang_once(timer: FiredTimer) -> None:
    """First run: write the effect, tell the test (a marker file) and hang until killed."""
    await record_effect(timer.id)
    marker = Path(timer.payload["marker"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        await asyncio.sleep(3600)  # the test SIGKILLs this worker here


HANDLERS = {"test.effect": effect, "test.fail": fail, "test.hang_once": hang_once}
