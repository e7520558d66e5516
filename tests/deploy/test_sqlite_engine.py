"""The embedded demo's SQLite engine (crm.sqlite): connections kept open, and a process's reads waiting for its
writer. Each test uses its own database file and engine; the session's PostgreSQL is not involved."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiosqlite
import pytest
import sqlite3

from crm.sqlite import PooledSQLiteEngine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def sqlite_engine(tmp_path):
    engine = PooledSQLiteEngine(path=str(tmp_path / "db.sqlite"), timeout=30)
    await engine.run_ddl("PRAGMA journal_mode=WAL")
    await engine.run_ddl("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await engine.run_ddl("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id))")
    yield engine
    await engine.close_idle()


async def _sql(engine, sql: str, *args):
    from piccolo.querystring import QueryString

    return await engine.run_querystring(QueryString(sql.replace("?", "{}"), *args))


async def test_reads_and_transactions_reuse_the_connections(sqlite_engine, monkeypatch):
    opened = []
    for module in (aiosqlite, sqlite3):
        monkeypatch.setattr(module, "connect", _counted(module.connect, opened))
    for n in range(20):
        await _sql(sqlite_engine, "INSERT INTO parent (id) VALUES (?)", n)
        async with sqlite_engine.write_transaction():
            await _sql(sqlite_engine, "INSERT INTO child (parent) VALUES (?)", n)
    # the reads' connection was opened by the fixture's DDL; the writes' one now, once
    assert len(opened) == 1, "connections are kept, not opened per query or per transaction"
    assert await _sql(sqlite_engine, "SELECT count(*) AS n FROM child") == [{"n": 20}]


def _counted(connect, opened: list):
    def counting(*args, **kwargs):
        opened.append(connect)
        return connect(*args, **kwargs)

    return counting


async def test_foreign_keys_are_enforced_on_kept_connections(sqlite_engine):
    await _sql(sqlite_engine, "SELECT 1")  # the connection is now a kept one
    with pytest.raises(sqlite3.IntegrityError):
        await _sql(sqlite_engine, "INSERT INTO child (parent) VALUES (?)", 404)
    with pytest.raises(sqlite3.IntegrityError):
        async with sqlite_engine.write_transaction():
            await _sql(sqlite_engine, "INSERT INTO child (parent) VALUES (?)", 404)
    assert await _sql(sqlite_engine, "SELECT count(*) AS n FROM child") == [{"n": 0}]


async def test_a_failed_transaction_rolls_back_and_its_connection_is_clean_for_the_next(sqlite_engine):
    with pytest.raises(RuntimeError):
        async with sqlite_engine.write_transaction():
            await _sql(sqlite_engine, "INSERT INTO parent (id) VALUES (?)", 1)
            raise RuntimeError("the service refused")
    await _sql(sqlite_engine, "INSERT INTO parent (id) VALUES (?)", 2)  # autocommitted on a reused connection
    assert await _sql(sqlite_engine, "SELECT id FROM parent") == [{"id": 2}]


async def test_a_connection_left_inside_a_transaction_is_closed_not_kept(sqlite_engine):
    lent = await sqlite_engine.get_connection()
    await lent.execute("BEGIN")
    await lent.close()
    assert await _sql(sqlite_engine, "SELECT count(*) AS n FROM parent") == [{"n": 0}]
    kept = sqlite_engine._idle[id(asyncio.get_running_loop())]
    assert all(not connection.in_transaction for connection in kept)


async def test_a_read_of_this_process_waits_for_its_writer_then_sees_the_write(sqlite_engine):
    writing, may_commit = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with sqlite_engine.write_transaction():
            await _sql(sqlite_engine, "INSERT INTO parent (id) VALUES (?)", 7)
            writing.set()
            await may_commit.wait()

    writes = asyncio.create_task(writer())
    await writing.wait()
    read = asyncio.create_task(_sql(sqlite_engine, "SELECT id FROM parent"))
    await asyncio.sleep(0.2)
    assert not read.done(), "the read waits while this process's writer holds the lock"
    may_commit.set()
    await writes
    assert await asyncio.wait_for(read, 5) == [{"id": 7}]


def test_kept_connections_do_not_keep_a_process_alive(tmp_path):
    script = (
        "import asyncio\n"
        "from crm.sqlite import PooledSQLiteEngine\n"
        f"engine = PooledSQLiteEngine(path={str(tmp_path / 'db.sqlite')!r})\n"
        "async def main():\n"
        "    await engine.run_ddl('SELECT 1')\n"
        "asyncio.run(main())\n"
        "print('done')\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert finished.stdout.strip() == "done", finished.stderr


async def test_a_long_write_transaction_lets_the_event_loop_run(sqlite_engine):
    """A write's statements run on the event loop's thread: an import's thousands of rows must not stall the
    process's other work until they commit."""
    ticks_during_the_write: list[int] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    async with sqlite_engine.write_transaction():
        started_at = ticks
        for n in range(5000):
            await _sql(sqlite_engine, "INSERT INTO parent (id) VALUES (?)", n)
        ticks_during_the_write.append(ticks - started_at)
    ticking.cancel()
    assert ticks_during_the_write[0] > 0
    assert await _sql(sqlite_engine, "SELECT count(*) AS n FROM parent") == [{"n": 5000}]
