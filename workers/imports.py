"""Import jobs: import one uploaded file, and the sweep that picks up jobs whose worker died."""

from __future__ import annotations

from crm.imports import service
from crm.settings import get_settings


async def run_import(ctx: dict, job_id: int, group_id: int, store_id: int | None) -> dict:
    return await service.run_import(job_id, group_id, store_id)


async def sweep_import_jobs(ctx: dict) -> dict:
    return await service.sweep_stale(groups=get_settings().timer_groups)
