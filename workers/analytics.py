"""Rollup job: recompute the store-days the database triggers queued since the last run."""

from __future__ import annotations

from crm.analytics.rollups import refresh


async def refresh_rollups(ctx: dict) -> dict:
    return await refresh()
