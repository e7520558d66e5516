"""Report jobs: render one report (retried with backoff, then failed with the reason) and the monthly plan."""

from __future__ import annotations

import structlog
from arq import Retry

from crm.reports import service

log = structlog.get_logger()

RETRY_SECONDS = 30  # backoff: 30 s, then 60 s, …


async def render_report(ctx: dict, report_id: int) -> dict:
    attempt = ctx.get("job_try", 1)
    try:
        return await service.render_report(report_id, attempt=attempt)
    except Exception as error:
        final = attempt >= service.MAX_TRIES
        reason = f"{type(error).__name__}: {error}"
        log.warning("report_render_failed", report=report_id, attempt=attempt, final=final, reason=reason)
        await service.render_failed(report_id, attempt=attempt, reason=reason, final=final)
        if final:
            return {"failed": 1}
        raise Retry(defer=RETRY_SECONDS * attempt) from error


async def plan_monthly_reports(ctx: dict) -> dict:
    return await service.plan_monthly_reports()
