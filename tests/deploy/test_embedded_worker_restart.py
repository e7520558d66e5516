"""The embedded launcher never stalls silently: a SIGKILLed worker is restarted and the missed timers fire.

Runs the real `dealerdesk demo` (SQLite, the bundled Redis) in a subprocess, kills its worker, makes a
deadline come due while no worker runs, and watches the launcher bring a worker back that fires it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx

from deploy.services import free_port

DEALERDESK = str(Path(sys.executable).parent / "dealerdesk")


async def test_a_killed_worker_is_restarted_and_fires_the_timers_it_missed(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DEALERDESK_VAR=str(tmp_path), PORT=str(port), TIMER_SWEEP_SECONDS="5")
    for command in (["migrate"], ["seed", "--small"]):
        done = subprocess.run([DEALERDESK, *command], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    database = tmp_path / "dealerdesk.sqlite"

    demo = subprocess.Popen([DEALERDESK, "demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await _until(lambda: _status(client, 200), demo, "the demo to be ready")
            pid_file = tmp_path / "worker.pid"
            killed = int(pid_file.read_text())
            os.kill(killed, signal.SIGKILL)
            timer_id = _make_a_deadline_overdue(database)  # it comes due while no worker runs

            await _until(lambda: _restarted(pid_file, killed), demo, "the launcher to start a new worker")
            await _until(lambda: _fired(database, timer_id), demo, "the new worker to fire the missed timer")
            await _until(lambda: _status(client, 200), demo, "/health to be ready again")
    finally:
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    assert "restarting" in output
    assert oct((tmp_path / "redis_password").stat().st_mode & 0o777) == "0o600"


def _make_a_deadline_overdue(database: Path) -> int:
    with closing(sqlite3.connect(database, timeout=30)) as db, db:
        timer_id, due_at = db.execute(
            "SELECT id, due_at FROM timer WHERE state = 'pending' AND retry_at IS NULL ORDER BY due_at DESC LIMIT 1"
        ).fetchone()
        db.execute("UPDATE timer SET due_at = ? WHERE id = ?", ("2001" + str(due_at)[4:], timer_id))
    return timer_id


async def _status(client: httpx.AsyncClient, expected: int) -> bool:
    try:
        return (await client.get("/health")).status_code == expected
    except httpx.TransportError:
        return False


async def _restarted(pid_file: Path, killed: int) -> bool:
    return pid_file.exists() and int(pid_file.read_text() or killed) != killed


async def _fired(database: Path, timer_id: int) -> bool:
    with closing(sqlite3.connect(database, timeout=30)) as db:
        return db.execute("SELECT state FROM timer WHERE id = ?", (timer_id,)).fetchone()[0] == "fired"


async def _until(predicate, process: subprocess.Popen, what: str, limit: float = 90.0) -> None:
    """Poll a child process's progress (a bounded loop waiting for processes, not for a deadline)."""
    for _ in range(int(limit / 0.2)):
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")
