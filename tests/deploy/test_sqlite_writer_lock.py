"""The SQLite writers' lock file (crm.sqlite): a request cancelled while waiting never leaves the lock held."""

from __future__ import annotations

import asyncio
import fcntl
import os

from crm.sqlite import hold_file_lock


def _free(path) -> bool:
    probe = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(probe, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(probe)


async def test_a_writer_waits_for_the_lock_and_gets_it_when_released(tmp_path):
    path = tmp_path / "db.sqlite.writer-lock"
    other_process, ours = (os.open(path, os.O_RDWR | os.O_CREAT) for _ in range(2))
    fcntl.flock(other_process, fcntl.LOCK_EX)
    waiting = asyncio.create_task(hold_file_lock(ours))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    fcntl.flock(other_process, fcntl.LOCK_UN)
    await asyncio.wait_for(waiting, 5)
    assert not _free(path)
    fcntl.flock(ours, fcntl.LOCK_UN)
    assert _free(path)


async def test_a_writer_cancelled_while_waiting_releases_the_lock_it_gets_later(tmp_path):
    path = tmp_path / "db.sqlite.writer-lock"
    other_process, ours, probe = (os.open(path, os.O_RDWR | os.O_CREAT) for _ in range(3))
    fcntl.flock(other_process, fcntl.LOCK_EX)
    waiting = asyncio.create_task(hold_file_lock(ours))
    await asyncio.sleep(0.05)  # the thread is now blocked in flock
    waiting.cancel()
    fcntl.flock(other_process, fcntl.LOCK_UN)  # the thread gets the lock after the request gave up ...
    for _ in range(3):  # ... and lets it go: another writer always gets it again (whoever the kernel serves first)
        await asyncio.wait_for(asyncio.to_thread(fcntl.flock, probe, fcntl.LOCK_EX), 5)
        fcntl.flock(probe, fcntl.LOCK_UN)
        await asyncio.sleep(0.05)
