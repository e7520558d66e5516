"""导入任务 pages: an import's progress (the fragment polls itself every second) and, once done, its per-row
report — one page for every kind of import; the kind's report and the way back to its upload form below."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from api.params import IdParam
from crm.imports import service as imports
from tenants.scope import Scope

# Where each kind's upload form is (the way back for another file), by kind.
UPLOAD_PAGES = {"customers": "/settings/customer-import", "mystery_audits": "/mystery-shopper#mystery-import",
                "manufacturer_scores": "/satisfaction#scores-import", "people": "/people#people-import"}
COUNT_TITLES = {"created": ("新建", "Created"), "updated": ("更新", "Updated"), "unchanged": ("未变", "Unchanged")}


@get("/imports/{job_id:int}", include_in_schema=False)
async def job_page(actor: Scope, job_id: IdParam) -> Template:
    """Who may see the job is `crm.imports` (as `GET /api/v1/imports/{id}`): 404 for another tenant's."""
    job = await imports.get_import(actor=actor, job_id=job_id)
    return Template("imports/job.html", context=_context(job))


@get("/imports/{job_id:int}/progress", include_in_schema=False)
async def job_progress(actor: Scope, job_id: IdParam) -> Template:
    job = await imports.get_import(actor=actor, job_id=job_id)
    return Template("imports/_progress.html", context=_context(job))


ROUTES = [job_page, job_progress]


def to_job(request: Request, job: imports.ImportJobInfo) -> Redirect | ClientRedirect:
    """After an upload form: the browser goes to the job's page (htmx follows a client redirect)."""
    url = f"/imports/{job.id}"
    return ClientRedirect(url) if request.headers.get("hx-request") else Redirect(url, status_code=303)


def _context(job: imports.ImportJobInfo) -> dict:
    return {"job": job, "report": job.report if job.status == "done" else None, "upload_page": UPLOAD_PAGES[job.kind],
            "kind_titles": imports.KIND_TITLES, "status_titles": imports.STATUS_TITLES, "count_titles": COUNT_TITLES}
