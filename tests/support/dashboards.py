"""Dashboard helpers: what the worker's cron does for the dashboards, run at once."""

from __future__ import annotations

from crm.analytics.rollups import refresh


async def settle() -> None:
    """Recompute every queued store-day (the rows a test wrote queued theirs through the database triggers)."""
    while (await refresh())["store_days"]:
        pass
