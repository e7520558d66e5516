"""The real worker process: it fires timers through arq, and a SIGKILL mid-job loses nothing and doubles nothing.

Each test starts `arq workers.settings.WorkerSettings` as a subprocess against the
suite's PostgreSQL and Redis, and polls the database for the outcome with a
bounded loop (waiting for a process, not for a deadline).
"""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest

from crm import clock
from crm.db import transaction
from crm.timers.service import schedule_timer
from crm.timers.tables import Timer
from tests.support.timer_handlers import effect_count
from tests.support.workers import start_worker, stop_worker, wait_for


pytestmark = pytest.mark.usefixtures("effect_table")


async def _schedule(tenant, kind: str, payload: dict | None = None) -> int:
    async with transaction():
        return await schedule_timer(
            kind=kind, due_at=clock.now() - timedelta(seconds=1), group_id=tenant.group_id, store_id=tenant.store_a,
            subject_type="test", subject_id=77, payload=payload,
        )


async def _state(timer_id: int) -> str:
    return (await Timer.select(Timer.state).where(Timer.id == timer_id).first())["state"]


async def test_worker_fires_a_due_timer_through_its_job(tenant, tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker(log, groups=[tenant.group_id])
    try:
        await wait_for(lambda: _logged(log, "worker_started"), what="the worker to start", log=log)
        timer_id = await _schedule(tenant, "test.effect")
        await wait_for(lambda: _fired(timer_id), what="the timer to fire", log=log)
    finally:
        stop_worker(worker)
    assert await effect_count(timer_id) == 1
    text = log.read_text()
    assert "job_done" in text and f"timer:{timer_id}:1" in text and "outcome=fired" in text
    assert worker.returncode == 0  # SIGTERM: a graceful stop


async def test_sigkill_mid_job_fires_after_restart_with_its_effect_once(tenant, tmp_path):
    log = tmp_path / "worker.log"
    marker = tmp_path / "handler-started"
    worker = start_worker(log, groups=[tenant.group_id])
    try:
        await wait_for(lambda: _logged(log, "worker_started"), what="the worker to start", log=log)
        timer_id = await _schedule(tenant, "test.hang_once", {"marker": str(marker)})
        await wait_for(lambda: _exists(marker), what="the handler to start", log=log)
        assert f"timer:{timer_id}:1:fire_timer" in log.read_text()  # killed inside the arq job
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        stop_worker(worker)
    assert await _state(timer_id) == "pending"
    assert await effect_count(timer_id) == 0  # the half-done effect rolled back with the dead transaction

    restarted = start_worker(log, groups=[tenant.group_id])
    try:
        await wait_for(lambda: _fired(timer_id), what="the timer to fire after restart", log=log)
    finally:
        stop_worker(restarted)
    assert await effect_count(timer_id) == 1
    row = await Timer.select(Timer.attempts, Timer.fired_at).where(Timer.id == timer_id).first()
    assert row["attempts"] == 1 and row["fired_at"] is not None


async def _fired(timer_id: int) -> bool:
    return await _state(timer_id) == "fired"


async def _logged(log: Path, text: str) -> bool:
    return text in log.read_text()


async def _exists(path: Path) -> bool:
    return path.exists()
