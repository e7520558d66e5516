"""The audit log page: filters (date range, action, who), 50 entries a page, and the export buttons."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Response, get
from litestar.params import Parameter
from litestar.response import Template

from api.audit.routes import GUARDS, audit_filter, export_response
from api.lists import ListView, filtered_by
from api.params import text_param
from crm import lists
from tenants import audit
from tenants.scope import Scope


def audit_page_filter(since: str = "", until: str = "", action: text_param(64) = "", who: text_param(100) = ""
                      ) -> audit.AuditFilter:
    """A bad date in the URL is ignored (the filter falls back to "any")."""
    return audit_filter(_day(since), _day(until), action, who)


@get("/audit", guards=GUARDS, include_in_schema=False)
@filtered_by(audit_page_filter)
async def log_page(
    actor: Scope, filters: audit.AuditFilter, sort: str = "", page: str = "", page_size: str = "",
) -> Template:
    """A bad sort or page is a 400."""
    want = audit.AUDIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await audit.entries(actor, filters, want)
    return Template("audit/log.html", context={
        "found": found, "filters": filters, "platform": actor.group_id is None,
        "view": ListView("/audit", audit.AUDIT_LIST, want, lists.Page(**{k: v for k, v in found.items()
                         if k not in ("actions", "action_labels")}), _url_filters(filters),
                         export_path="/audit/export"),
    })


@get("/audit/export", guards=GUARDS, include_in_schema=False)
@filtered_by(audit_page_filter)
async def export_page(
    actor: Scope, filters: audit.AuditFilter, format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx",
    sort: str = "",
) -> Response:
    return export_response(await audit.export_rows(actor, filters, audit.AUDIT_LIST.parse(sort=sort)), format)


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def _url_filters(filters: audit.AuditFilter) -> dict[str, str]:
    """The filters as the URL carries them (the days as YYYY-MM-DD)."""
    return {"since": filters.since.isoformat() if filters.since else "",
            "until": filters.until.isoformat() if filters.until else "", "action": filters.action, "who": filters.who}


ROUTES = [log_page, export_page]
