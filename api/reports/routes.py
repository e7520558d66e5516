"""Reports API under /api/v1/reports: ask for a report, list them, one report's state, download its file.

Thin: `crm.reports.service` decides who may ask for and see which report; outside the scope is 404.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Response, delete, get, post
from litestar.params import Parameter

from api.auth import requires
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import IdParam, text
from crm import lists
from crm.lists import Page
from crm.reports import service
from crm.reports.service import REPORT_READERS, ReportInfo
from tenants.scope import Scope

TAGS = ["reports"]
GUARDS = [requires(*REPORT_READERS)]
MEDIA = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ReportAsk(msgspec.Struct, forbid_unknown_fields=True):
    kind: text(30, 1)
    month: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$")]
    store_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


@post("/api/v1/reports", tags=TAGS, guards=GUARDS, status_code=202)
async def ask_for_report(actor: Scope, data: ReportAsk) -> ReportInfo:
    """Queue a report (kind, month `2026-11`, store_id for a store's report); it is made by the workers."""
    report_id = await service.request_report(actor=actor, kind=data.kind, month=data.month, store_id=data.store_id)
    return await service.report(actor=actor, report_id=report_id)


@get("/api/v1/reports", tags=TAGS, guards=GUARDS)
async def list_reports(
    actor: Scope, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[ReportInfo]:
    """The reports the caller may read, one page with the total. `sort`: `month` (default `-month`, newest first),
    `requested`, `kind`, `store`, `status`; `-key` for descending."""
    want = service.REPORT_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await service.report_page(actor=actor, want=want)


@get("/api/v1/reports/{report_id:int}", tags=TAGS, guards=GUARDS)
async def get_report(actor: Scope, report_id: IdParam) -> ReportInfo:
    """One report: its kind, period, scope and state; the file is at /download."""
    return await service.report(actor=actor, report_id=report_id)


@get("/api/v1/reports/{report_id:int}/download", tags=TAGS, guards=GUARDS)
async def download(actor: Scope, report_id: IdParam,
                   format: Annotated[str, Parameter(query="format", max_length=4)] = "pdf") -> Response:
    """The ready report as PDF or XLSX (409 while it is queued, being made, or failed)."""
    path, name = await service.report_file(actor=actor, report_id=report_id, format=format)
    disposition = f"attachment; filename=\"report.{format}\"; filename*=UTF-8''{quote(name)}"
    return Response(content=path.read_bytes(), media_type=MEDIA[format],
                    headers={"Content-Disposition": disposition})


class Subscription(msgspec.Struct):
    kind: str
    store_id: int | None


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: text(30, 1)
    store_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    user_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None  # the group admin: someone else


@get("/api/v1/reports/subscriptions", tags=TAGS, guards=GUARDS)
async def my_subscriptions(actor: Scope) -> Page[Subscription]:
    """The reports the caller gets by e-mail when they are ready: kind and store (`null`: the group's report),
    all on one page (`sort` is `kind`)."""
    rows = await service.subscriptions(actor=actor)
    return lists.whole([Subscription(kind=r["kind"], store_id=r["store"]) for r in rows], sort="kind")


@post("/api/v1/reports/subscriptions", tags=TAGS, guards=GUARDS, status_code=204)
async def subscribe(actor: Scope, data: SubscriptionIn) -> None:
    """Subscribe the caller (or, for the group admin, `user_id` of the group) to a report of a store or the group."""
    await service.subscribe(actor=actor, kind=data.kind, store_id=data.store_id, user_id=data.user_id)


@delete("/api/v1/reports/subscriptions", tags=TAGS, guards=GUARDS, status_code=204)
async def unsubscribe(actor: Scope, kind: Annotated[str, Parameter(query="kind", max_length=30)],
                      store_id: Annotated[int | None, Parameter(query="store_id", required=False, ge=1,
                                                                le=2**31 - 1)] = None,
                      user_id: Annotated[int | None, Parameter(query="user_id", required=False, ge=1,
                                                               le=2**31 - 1)] = None) -> None:
    """Stop receiving a report by e-mail."""
    await service.unsubscribe(actor=actor, kind=kind, store_id=store_id, user_id=user_id)


ROUTES = [ask_for_report, list_reports, get_report, download, my_subscriptions, subscribe, unsubscribe]
