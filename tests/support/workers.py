"""The real arq worker as a subprocess of a test, on the test's clock, against the suite's PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Collection
from pathlib import Path

from tests.support.clock import pinned_command, pinned_env

ROOT = Path(__file__).resolve().parents[2]


def start_worker(log: Path, *handler_modules: str, groups: Collection[int], **env: str) -> subprocess.Popen:
    """`arq workers.settings.WorkerSettings` with the test timer handlers plus `handler_modules` loaded.

    The worker sweeps and promotes only the timers of `groups` (the test's tenants), never another test's.
    """
    modules = ",".join(("tests.support.timer_handlers", *handler_modules))
    child_env = pinned_env({
        **os.environ, "TIMER_HANDLER_MODULES": modules, "TIMER_GROUPS": ",".join(map(str, groups)),
        "PYTHONUNBUFFERED": "1", **env,
    })
    return subprocess.Popen(
        pinned_command("arq", "workers.settings.WorkerSettings"),
        cwd=ROOT, env=child_env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


async def wait_for(predicate, *, what: str, log: Path, limit: float = 60.0) -> None:
    """Poll `predicate` (a bounded loop waiting for a process, never for a deadline)."""
    for _ in range(int(limit / 0.1)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}; worker log:\n{log.read_text()[-4000:]}")
