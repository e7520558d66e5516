"""The embedded demo's SQLite engine: Piccolo's, with connections kept open and writes that do not wait on
a busy event loop.

Piccolo's SQLite engine opens a new connection (a new aiosqlite thread, and SQLite reading the schema again)
for every query outside a transaction and for every transaction, and inside a transaction each statement
costs four hops between the event loop and the connection's thread (a `PRAGMA foreign_keys`, the statement,
the fetch, the cursor's close). Under reader load each hop waits its turn on a busy event loop, so a
complaint intake held SQLite's single write lock ~250 ms although it runs in ~50 ms alone, and writers queued
for seconds (issue 15, item 7). Here:

- reads use connections opened once, with their pragmas, kept per event loop; a read is one hop
  (`execute_fetchall`) to its connection's thread;
- writes go through `write_transaction()` (what `crm.db.transaction()` opens on SQLite). Writers queue for
  the single write lock, and while a process's writer holds it that process's reads wait. The transaction's
  statements run on the event loop's own thread: with the write lock held they never wait for another
  connection, and a write's statements take well under a millisecond each, so running them in place costs
  the loop less than handing each to a thread and queueing for the answer. BEGIN, which may wait for the
  lock, and COMMIT, which waits for the disk, go to a thread; a long transaction (an import) lets the loop
  run every `YIELD_EVERY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

# Set on every connection as it opens (they are per connection in SQLite).
CONNECTION_PRAGMAS = ("PRAGMA foreign_keys = 1",)

IDLE_CONNECTIONS_KEPT = 8

# A read waits for this process's writer at most this long: a guard, should a writer ever wait on a read
# outside its transaction, against the two waiting for each other.
READ_WAIT_LIMIT_SECONDS = 1.0

# A write transaction running on the event loop lets other work run at least this often.
YIELD_EVERY_SECONDS = 0.02


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine whose connections are reused (see the module's docstring)."""

    __slots__ = ("_idle", "_writers", "_no_writer", "_lock_file", "_writing_connection")

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        if sqlite3.sqlite_version_info < (3, 35):  # statements rely on RETURNING (Piccolo's fallback is not kept)
            raise RuntimeError(f"SQLite 3.35 or later is needed, this Python has {sqlite3.sqlite_version}")
        super().__init__(path=path, **connection_kwargs)
        self._idle: dict[int, list[aiosqlite.Connection]] = {}
        # Bound to their event loop: kept per loop object, not per id() that a later loop may reuse.
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._no_writer: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = \
            weakref.WeakKeyDictionary()
        self._lock_file: int | None = None
        self._writing_connection: dict[int, _OnLoop] = {}

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time. Left to SQLite, a writer that finds the database locked sleeps and
        retries (its busy handler backs off up to 100 ms a try), and whichever retry comes first wins: under a
        burst some requests lose round after round (intake p99 13.6 s at 10 writers). Writers queue instead: in
        the process in arrival order (an asyncio lock), then between the processes (web processes, worker) on
        a lock file the kernel hands over as soon as it is released, so SQLite never has to arbitrate."""
        loop = asyncio.get_running_loop()
        writers = self._writers.setdefault(loop, asyncio.Lock())
        no_writer = self._no_writer.get(loop)
        if no_writer is None:
            no_writer = self._no_writer[loop] = asyncio.Event()
            no_writer.set()
        async with writers:
            lock_file = self._writers_lock_file()
            await hold_file_lock(lock_file)
            no_writer.clear()
            try:
                async with _WriteTransaction(engine=self, transaction_type=TransactionType.immediate):
                    yield
            finally:
                no_writer.set()
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _writing_connection_of_this_loop(self) -> _OnLoop:
        """The loop's one write connection (its writers queue, so one is enough). One left inside a transaction
        by a cancelled request is rolled back first."""
        loop = id(asyncio.get_running_loop())
        connection = self._writing_connection.get(loop)
        if connection is None:
            raw = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)  # autocommit: Piccolo BEGINs
            raw.row_factory = dict_factory
            for pragma in CONNECTION_PRAGMAS:
                raw.execute(pragma)
            connection = self._writing_connection[loop] = _OnLoop(raw)
        elif connection.in_transaction:
            connection.run("ROLLBACK")
        return connection

    def _writers_lock_file(self) -> int:
        if self._lock_file is None:
            self._lock_file = os.open(f"{self.path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_file

    async def _after_this_process_writer(self) -> None:
        no_writer = self._no_writer.get(asyncio.get_running_loop())
        if no_writer is None or no_writer.is_set():
            return
        try:
            await asyncio.wait_for(no_writer.wait(), READ_WAIT_LIMIT_SECONDS)
        except TimeoutError:
            pass

    async def get_connection(self) -> _Lent:
        """A connection for a transaction: its `close()` hands it back to the pool."""
        return _Lent(self, await self._take())

    async def _take(self) -> aiosqlite.Connection:
        idle = self._idle.get(id(asyncio.get_running_loop()))
        if idle:
            return idle.pop()
        return await self._open()

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # A kept connection must not keep the process alive at exit: its thread is a daemon. It is started
        # by the await below, so the flag is set on the not-yet-started thread.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory
        for pragma in CONNECTION_PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def give_back(self, connection: aiosqlite.Connection) -> None:
        """Keeps a connection for the next query, unless it is left inside a transaction (a statement
        interrupted by a cancelled request) or enough are idle already: then it is closed."""
        idle = self._idle.setdefault(id(asyncio.get_running_loop()), [])
        if connection.in_transaction or len(idle) >= IDLE_CONNECTIONS_KEPT:
            await connection.close()
        else:
            idle.append(connection)

    async def close_idle(self) -> None:
        """Closes the kept connections of the running event loop (at shutdown)."""
        loop = id(asyncio.get_running_loop())
        for connection in self._idle.pop(loop, []):
            await connection.close()
        writing = self._writing_connection.pop(loop, None)
        if writing is not None:
            writing.raw.close()

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None, query_type: str = "generic",
                                     table: Any = None) -> list[dict]:
        """A query outside a transaction, on a kept connection. A lone write is committed at once, as
        Piccolo does."""
        await self._after_this_process_writer()
        connection = await self._take()
        try:
            rows = await connection.execute_fetchall(query, args or [])
            if connection.in_transaction:
                await connection.commit()
        except BaseException:
            await connection.close()
            raise
        await self.give_back(connection)
        return list(rows)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> list[dict]:
        """A statement of the current transaction: one hop to the connection's thread."""
        return list(await connection.execute_fetchall(query, args or []))


class _WriteTransaction(SQLiteTransaction):
    """A write transaction on the loop's write connection (see the module's docstring)."""

    async def get_connection(self) -> _OnLoop:
        return self.engine._writing_connection_of_this_loop()

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        """Piccolo's, but a COMMIT that fails (or is cancelled) still ends the transaction for this task: its next
        statements must not run on the loop's write connection outside the write lock."""
        try:
            return await super().__aexit__(exception_type, exception, traceback)
        except BaseException:
            if self._parent is None:
                self.engine.current_transaction.reset(self.context)
            raise

    async def begin(self) -> None:
        await self._in_thread(f"BEGIN {self.transaction_type.value}")

    async def commit(self) -> None:
        await self._in_thread("COMMIT")
        self._committed = True

    async def _in_thread(self, sql: str) -> None:
        """Runs BEGIN or COMMIT in a thread, which goes on should the request be cancelled meanwhile: the request
        then waits for it (the locks stay held, the connection is not the next writer's yet). A BEGIN or COMMIT
        that did not end well is rolled back, so that no connection keeps SQLite's write lock until this
        process writes again."""
        running = asyncio.ensure_future(asyncio.to_thread(self.connection.run, sql))
        try:
            await asyncio.shield(running)
        except BaseException:
            while not running.done():
                try:
                    await asyncio.shield(running)
                except asyncio.CancelledError:
                    pass
            running.exception()  # its failure, if any, is the one raised here already or a cancelled request's
            if self.connection.in_transaction:
                self.connection.run("ROLLBACK")
            raise


class _OnLoop:
    """A connection whose statements run on the calling thread (the event loop's), letting the loop run
    every `YIELD_EVERY_SECONDS` of a long transaction. Closing it keeps it: it is the loop's write connection."""

    __slots__ = ("raw", "_since")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self._since = time.perf_counter()

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def run(self, sql: str, args: Any = ()) -> list[dict]:
        return self.raw.execute(sql, args).fetchall()

    async def execute(self, sql: str, args: Any = ()) -> None:
        """Piccolo's own statements: ROLLBACK, SAVEPOINT, RELEASE."""
        self.run(sql, args)

    async def execute_fetchall(self, sql: str, args: Any) -> list[dict]:
        rows = self.run(sql, args)
        if time.perf_counter() - self._since > YIELD_EVERY_SECONDS:
            await asyncio.sleep(0)
            self._since = time.perf_counter()
        return rows

    async def close(self) -> None:
        self._since = time.perf_counter()


class _Lent:
    """A pooled connection lent to a Piccolo transaction, which closes it when done: closing gives it back."""

    __slots__ = ("_engine", "_connection")

    def __init__(self, engine: PooledSQLiteEngine, connection: aiosqlite.Connection) -> None:
        self._engine = engine
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self) -> None:
        await self._engine.give_back(self._connection)


async def hold_file_lock(lock_file: int) -> None:
    """Waits (in a thread) for the exclusive lock. A request cancelled meanwhile must not leave the lock held
    by the thread that gets it later: that thread's lock is then released at once."""
    waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, lock_file, fcntl.LOCK_EX))
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        waiting.add_done_callback(lambda done: done.exception() or fcntl.flock(lock_file, fcntl.LOCK_UN))
        raise
