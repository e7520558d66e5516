"""The audit log over the API: a group admin reads its group's entries, the platform admin the platform's own."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from api.auth import requires
from api.lists import PageParam, PageSizeParam, SortParam, filtered_by
from api.params import text_param
from tenants import audit
from tenants.scope import Scope

GUARDS = [requires(*audit.AUDIT_READERS)]
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Entry(msgspec.Struct):
    id: int
    at: str
    actor_name: str
    action: str
    action_zh: str  # the action as the log page shows it
    action_en: str
    target_type: str
    target_id: str
    before: Any
    after: Any


class EntriesPage(msgspec.Struct):
    """The list envelope of every list (`crm.lists.Page`), with the actions there are to filter by."""

    items: list[Entry]
    total: int
    page: int
    page_size: int
    pages: int
    sort: str
    actions: list[str]


def audit_filter(since: date | None = None, until: date | None = None, action: text_param(64) = "",
                 who: text_param(100) = "") -> audit.AuditFilter:
    """The log's filters, for the list and its export alike."""
    return audit.AuditFilter(since=since, until=until, action=action, who=who)


@get("/api/v1/audit", guards=GUARDS, tags=["audit"])
@filtered_by(audit_filter)
async def list_entries(
    actor: Scope, filters: audit.AuditFilter, sort: SortParam = "", page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> EntriesPage:
    """Newest first, 50 a page; `since`/`until` are days on the reader's wall clock, both inclusive.
    `sort`: `at`, `who`, `action`, `target`, `before`, `after`; `-key` for descending (default `-at`)."""
    want = audit.AUDIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await audit.entries(actor, filters, want)
    items = [Entry(**{**{k: row[k] for k in Entry.__struct_fields__ if k != "at"}, "at": row["at"].isoformat()})
             for row in found["items"]]
    return EntriesPage(items=items, **{k: found[k] for k in ("total", "page", "page_size", "pages", "sort", "actions")})


@get("/api/v1/audit/export", guards=GUARDS, tags=["audit"])
@filtered_by(audit_filter)
async def export_entries(
    actor: Scope, format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx", *, filters: audit.AuditFilter,
    sort: SortParam = "",
) -> Response:
    """The entries the filter keeps, in the list's order, as an XLSX workbook or a CSV file (Chinese headers)."""
    want = audit.AUDIT_LIST.parse(sort=sort)
    return export_response(await audit.export_rows(actor, filters, want), format)


def export_response(rows: list[dict[str, Any]], format: str) -> Response:
    body = audit.to_csv(rows) if format == "csv" else audit.to_xlsx(rows)
    return Response(content=body, media_type=EXPORT_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="audit-log.{format}"'})


ROUTES = [list_entries, export_entries]
