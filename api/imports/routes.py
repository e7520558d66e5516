"""Import jobs under /api/v1/imports: status, counts and, at the end, the per-row report."""

from __future__ import annotations

from litestar import get

from api.params import IdParam
from crm.imports import service
from crm.imports.service import ImportJobInfo
from tenants.scope import Scope


@get("/api/v1/imports/{job_id:int}", tags=["imports"])
async def get_import(actor: Scope, job_id: IdParam) -> ImportJobInfo:
    """An import job of the caller's stores: `status` queued | running | done | failed, the rows read, accepted
    and rejected so far, and when done the report (`imported` false: the file had row errors and nothing was
    written). Another store's or group's job is 404."""
    return await service.get_import(actor=actor, job_id=job_id)


ROUTES = [get_import]
