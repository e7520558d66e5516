"""Timer jobs: thin adapters over crm.timers.runner; each returns what it did."""

from __future__ import annotations

from crm.settings import get_settings
from crm.timers import runner


async def fire_timer(ctx: dict, timer_id: int) -> dict:
    return {"timer": timer_id, "outcome": await runner.fire_timer(timer_id)}


async def sweep_timers(ctx: dict) -> dict:
    return await runner.sweep(groups=get_settings().timer_groups)


async def promote_timers(ctx: dict) -> dict:
    return await runner.promote(groups=get_settings().timer_groups)
