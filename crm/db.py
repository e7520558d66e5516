"""Transactions with after-commit work: the one way services open a database transaction.

`async with transaction():` opens a Piccolo transaction (on SQLite the engine's
`write_transaction()`, `crm/sqlite.py`: writers queue for the one write lock). Work that
must only happen once the rows are committed — above all enqueueing arq jobs — is
registered with `after_commit(...)`; it runs after the outermost transaction
commits and is dropped on rollback, so no job ever points at a row that does not
exist. Nested `transaction()` blocks join the outer one. Work that must still be
part of the transaction but is best done once at its end — batching many rows a
loop recorded one by one — is registered with `before_commit(...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

import sqlite3

import asyncpg
import structlog

log = structlog.get_logger()

# What a unique index refusing a row raises, on either engine.
UNIQUE_VIOLATIONS: tuple[type[Exception], ...] = (asyncpg.exceptions.UniqueViolationError, sqlite3.IntegrityError)

AfterCommit = Callable[[], Awaitable[object]]

_pending: ContextVar[list[AfterCommit] | None] = ContextVar("dealerdesk_after_commit", default=None)
_closing: ContextVar[list[AfterCommit] | None] = ContextVar("dealerdesk_before_commit", default=None)


def like_term(typed: str) -> str:
    """Text a user typed, made safe inside a LIKE pattern: wildcards and backslashes are dropped rather
    than escaped (names, phones, plates and VINs never hold them; escaping needs an ESCAPE clause)."""
    return typed.replace("%", "").replace("_", "").replace("\\", "")


def engine():
    """The Piccolo engine of the running configuration."""
    from piccolo_conf import DB

    return DB


def is_postgres() -> bool:
    from piccolo.engine.postgres import PostgresEngine

    return isinstance(engine(), PostgresEngine)


async def start_pool(*, max_size: int) -> bool:
    """The PostgreSQL connection pool of a process (app, worker, command); SQLite needs none. True if started.

    A connection handed back to the pool is not reset with asyncpg's default query (advisory locks, cursors,
    LISTEN, RESET ALL): that is a second round trip on every pooled read — as costly as a read by id — and
    resets nothing here, because the product keeps no session state: it changes no session setting, its advisory
    locks are `pg_advisory_xact_lock`, it opens no cursor and listens on Redis, not PostgreSQL. asyncpg still
    rolls back a transaction left open before the connection is reused.
    """
    if not is_postgres():
        return False
    await engine().start_connection_pool(min_size=1, max_size=max_size, **POOL_SETTINGS)
    return True


async def stop_pool() -> None:
    """Closes the PostgreSQL pool, or the SQLite connections this event loop kept (`crm.sqlite`)."""
    if is_postgres():
        await engine().close_connection_pool()
    elif hasattr(engine(), "close_idle"):
        await engine().close_idle()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset (see `start_pool`)."""


POOL_SETTINGS = {"reset": _keep_session}


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """A database transaction whose `after_commit` callbacks run once it has committed."""
    if _pending.get() is not None:
        yield  # joins the outer transaction; its callbacks run when the outer one commits
        return
    callbacks: list[AfterCommit] = []
    closing: list[AfterCommit] = []
    token, closing_token = _pending.set(callbacks), _closing.set(closing)
    try:
        async with _begin():
            yield
            while closing:
                await closing.pop(0)()
    finally:
        _pending.reset(token)
        _closing.reset(closing_token)
    for callback in callbacks:
        await _run_safely(callback)


@asynccontextmanager
async def without_after_commit() -> AsyncIterator[None]:
    """Bulk work inside an already open Piccolo transaction, without Redis (demo seeding): the services'
    transactions join it, and their after-commit work (timer jobs, notification deliveries, live pushes)
    is dropped — the timers' sweeper and the notifications' retry sweep pick it up once a worker runs."""
    token, closing_token = _pending.set([]), _closing.set([])
    try:
        yield
        closing = _closing.get() or []
        while closing:
            await closing.pop(0)()
    finally:
        _pending.reset(token)
        _closing.reset(closing_token)


@asynccontextmanager
async def savepoint() -> AsyncIterator[None]:
    """A part of the current transaction that can fail alone: its rows and after-commit work are undone."""
    callbacks = _pending.get()
    if callbacks is None:
        raise RuntimeError("savepoint() needs an open transaction()")
    mark = len(callbacks)
    closing = _closing.get() or []
    closing_mark = len(closing)
    current = engine().current_transaction.get()
    point = await current.savepoint()
    try:
        yield
    except BaseException:
        await point.rollback_to()
        del callbacks[mark:]
        del closing[closing_mark:]
        raise
    else:
        await point.release()


async def after_commit(callback: AfterCommit) -> None:
    """Run `callback` after the current transaction commits (at once when there is none)."""
    callbacks = _pending.get()
    if callbacks is not None:
        callbacks.append(callback)
        return
    if engine().current_transaction.get() is not None:
        # A bare Piccolo transaction gives no commit hook: the work runs now, before the commit.
        log.warning("after_commit_outside_crm_transaction", hint="use crm.db.transaction()")
    await _run_safely(callback)


async def before_commit(callback: AfterCommit) -> None:
    """Run `callback` inside the current transaction, just before it commits (at once when there is none).

    Its failure rolls the whole transaction back, like any statement of it.
    """
    closing = _closing.get()
    if closing is None:
        await callback()
    else:
        closing.append(callback)


def in_transaction() -> bool:
    return _pending.get() is not None


def _begin():
    db = engine()
    if is_postgres():
        return db.transaction()
    return db.write_transaction()  # crm.sqlite: writers queue, this process's readers wait


async def _run_safely(callback: AfterCommit) -> None:
    """After-commit work must not turn a committed change into an error for the caller.

    Everything registered here has a database-side safety net (the timer sweeper,
    the notification retry sweep), so a failure is logged and left to it.
    """
    try:
        await callback()
    except Exception:
        log.warning("after_commit_failed", callback=getattr(callback, "__qualname__", repr(callback)), exc_info=True)
