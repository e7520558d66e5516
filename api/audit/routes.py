"""The audit log over the API: a group admin reads its group's entries, the platform admin the platform's own."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from api.auth import requires
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
    target_type: str
    target_id: str
    before: Any
    after: Any


class EntriesPage(msgspec.Struct):
    items: list[Entry]
    total: int
    page: int
    pages: int
    actions: list[str]


def audit_filter(since: date | None, until: date | None, action: str, who: str) -> audit.AuditFilter:
    return audit.AuditFilter(since=since, until=until, action=action.strip(), who=who.strip())


@get("/api/v1/audit", guards=GUARDS, tags=["audit"])
async def list_entries(
    actor: Scope, since: date | None = None, until: date | None = None, action: text_param(64) = "",
    who: text_param(100) = "", page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
) -> EntriesPage:
    """Newest first, 50 a page; `since`/`until` are days on the reader's wall clock, both inclusive."""
    found = await audit.entries(actor, audit_filter(since, until, action, who), page=page)
    items = [Entry(**{**{k: row[k] for k in Entry.__struct_fields__ if k != "at"}, "at": row["at"].isoformat()})
             for row in found["items"]]
    return EntriesPage(items=items, **{k: found[k] for k in ("total", "page", "pages", "actions")})


@get("/api/v1/audit/export", guards=GUARDS, tags=["audit"])
async def export_entries(
    actor: Scope, format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx",
    since: date | None = None, until: date | None = None, action: text_param(64) = "", who: text_param(100) = "",
) -> Response:
    """The entries the filter keeps as an XLSX workbook or a CSV file (Chinese headers)."""
    return export_response(await audit.export_rows(actor, audit_filter(since, until, action, who)), format)


def export_response(rows: list[dict[str, Any]], format: str) -> Response:
    body = audit.to_csv(rows) if format == "csv" else audit.to_xlsx(rows)
    return Response(content=body, media_type=EXPORT_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="audit-log.{format}"'})


ROUTES = [list_entries, export_entries]
