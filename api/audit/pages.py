"""The audit log page: filters (date range, action, who), 50 entries a page, and the export buttons."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import Parameter
from litestar.response import Template

from api.audit.routes import GUARDS, audit_filter, export_response
from api.params import text_param
from tenants import audit
from tenants.scope import Scope


@get("/audit", guards=GUARDS, include_in_schema=False)
async def log_page(
    request: Request[Scope, Any, Any], actor: Scope, since: str = "", until: str = "", action: text_param(64) = "",
    who: text_param(100) = "", page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
) -> Template:
    """A bad date in the URL is ignored (the filter falls back to "any"), like the other pages' filters."""
    where = audit_filter(_day(since), _day(until), action, who)
    found = await audit.entries(actor, where, page=page)
    query = {k: v for k, v in {"since": since, "until": until, "action": action, "who": who}.items() if v}
    return Template("audit/log.html", context={
        "found": found, "filters": query, "platform": actor.group_id is None,
        "query": urlencode(query), "page_link": lambda n: "?" + urlencode({**query, "page": n}),
    })


@get("/audit/export", guards=GUARDS, include_in_schema=False)
async def export_page(
    actor: Scope, format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx", since: str = "",
    until: str = "", action: text_param(64) = "", who: text_param(100) = "",
) -> Response:
    return export_response(await audit.export_rows(actor, audit_filter(_day(since), _day(until), action, who)), format)


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


ROUTES = [log_page, export_page]
