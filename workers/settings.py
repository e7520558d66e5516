"""arq WorkerSettings — one place for the worker's functions, cron jobs and Redis settings."""

from __future__ import annotations

from arq.connections import RedisSettings

from crm.settings import get_settings


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379/0")


async def ping(ctx: dict) -> dict:
    return {"pong": 1}


class WorkerSettings:
    functions = [ping]
    cron_jobs: list = []
    redis_settings = redis_settings()
