"""The audit log page: filters (date range, action, who), 50 entries a page, and the export buttons."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Response, get
from litestar.params import Parameter
from litestar.response import Template

from api.audit.routes import GUARDS, audit_filter, export_response
from api.lists import ListView
from api.params import text_param
from crm import lists
from tenants import audit
from tenants.scope import Scope


@get("/audit", guards=GUARDS, include_in_schema=False)
async def log_page(
    actor: Scope, since: str = "", until: str = "", action: text_param(64) = "", who: text_param(100) = "",
    sort: str = "", page: str = "", page_size: str = "",
) -> Template:
    """A bad date in the URL is ignored (the filter falls back to "any"); a bad sort or page is a 400."""
    want = audit.AUDIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await audit.entries(actor, audit_filter(_day(since), _day(until), action, who), want)
    query = {k: v for k, v in {"since": since, "until": until, "action": action, "who": who}.items() if v}
    return Template("audit/log.html", context={
        "found": found, "filters": query, "platform": actor.group_id is None,
        "view": ListView("/audit", audit.AUDIT_LIST, want, lists.Page(**{k: v for k, v in found.items()
                         if k not in ("actions", "action_labels")}), query, export_path="/audit/export"),
    })


@get("/audit/export", guards=GUARDS, include_in_schema=False)
async def export_page(
    actor: Scope, format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx", since: str = "",
    until: str = "", action: text_param(64) = "", who: text_param(100) = "", sort: str = "",
) -> Response:
    want = audit.AUDIT_LIST.parse(sort=sort)
    return export_response(await audit.export_rows(actor, audit_filter(_day(since), _day(until), action, who), want),
                           format)


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


ROUTES = [log_page, export_page]
