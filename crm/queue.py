"""The arq queue as seen from crm/: one Redis pool per event loop, and enqueue-after-commit.

Services never enqueue directly: `enqueue_after_commit(...)` buffers the job in the
current `crm.db.transaction()` and sends it once the rows it refers to are committed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import msgspec
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import default_queue_name, job_key_prefix

from crm import clock
from crm.db import after_commit
from crm.settings import get_settings

_pools: dict[int, ArqRedis] = {}
ENQUEUE_CONCURRENCY = 64  # jobs in flight at once when many are enqueued together


def redis_settings() -> RedisSettings:
    """Redis for arq from REDIS_URL (the embedded launcher sets it to the Redis it starts)."""
    return RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379/0")


def _unencodable(value: Any) -> str:
    """A job result msgpack cannot carry (an exception of a failed job) is kept as its text."""
    return repr(value)


_encoder = msgspec.msgpack.Encoder(enc_hook=_unencodable)
_decoder = msgspec.msgpack.Decoder()


def job_serializer(job: dict[str, Any]) -> bytes:
    """Jobs and results travel as msgpack, never pickle: reading a job from Redis must not run code."""
    return _encoder.encode(job)


def job_deserializer(data: bytes) -> dict[str, Any]:
    return _decoder.decode(data)


async def get_queue() -> ArqRedis:
    """The arq pool of the running event loop (created on first use)."""
    loop_id = id(asyncio.get_running_loop())
    pool = _pools.get(loop_id)
    if pool is None:
        pool = await create_pool(redis_settings(), job_serializer=job_serializer, job_deserializer=job_deserializer)
        _pools[loop_id] = pool
    return pool


def use_queue(pool: ArqRedis) -> None:
    """Share an existing pool (the worker's own) for this event loop."""
    _pools[id(asyncio.get_running_loop())] = pool


async def close_queue() -> None:
    pool = _pools.pop(id(asyncio.get_running_loop()), None)
    if pool is not None:
        await pool.aclose()


async def enqueue_after_commit(
    function: str, *args: Any, job_id: str, defer_until: datetime | None = None, **kwargs: Any
) -> None:
    """Enqueue an arq job once the current transaction commits; dropped on rollback."""

    async def send() -> None:
        queue = await get_queue()
        await queue.enqueue_job(function, *args, _job_id=job_id, _defer_by=_delay(defer_until), **kwargs)

    await after_commit(send)


async def enqueue_many(function: str, jobs: list[tuple[str, datetime, tuple]]) -> None:
    """Enqueue many deferred jobs `(job_id, defer_until, args)` through arq's `enqueue_job`, a few at a time.

    Each job id is new (timer ids carry a version); an id already queued keeps its job, as arq decides.
    """
    if not jobs:
        return
    queue = await get_queue()
    slots = asyncio.Semaphore(ENQUEUE_CONCURRENCY)

    async def enqueue(job_id: str, defer_until: datetime, args: tuple) -> None:
        async with slots:
            await queue.enqueue_job(function, *args, _job_id=job_id, _defer_by=_delay(defer_until))

    await asyncio.gather(*(enqueue(*job) for job in jobs))


def _delay(defer_until: datetime | None) -> timedelta:
    """How long from now by the product's clock: arq counts in its own time, which need not be ours."""
    return max(defer_until - clock.now(), timedelta(0)) if defer_until else timedelta(0)


async def forget_jobs(job_ids: list[str]) -> None:
    """Remove queued jobs that are no longer needed (a job that already started finishes as a no-op)."""
    queue = await get_queue()
    async with queue.pipeline(transaction=False) as pipe:
        pipe.zrem(default_queue_name, *job_ids)
        pipe.delete(*[job_key_prefix + j for j in job_ids])
        await pipe.execute()
