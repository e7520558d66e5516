"""Customer records pages (客户档案): search-as-you-type and the customer page.

Both read only through the customer service with the caller's scope; a customer
outside the scope is NotFound, which the error handler shows as the 404 page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from api.auth import requires
from api.web.nav import TENANT_ROLES
from crm.customers.service import (
    GENDERS,
    KINDS,
    MARITAL_STATUSES,
    REPAIR_TYPES,
    SOURCES,
    customer_profile,
    search_customers,
)
from tenants.errors import NotFound
from tenants.scope import Scope

SEARCH_LIMIT = 20
MAX_QUERY = 60
# Ids are 32-bit serials; a larger number in the URL can only be a customer that does not exist.
_MAX_ID = 2**31 - 1

# Code → (中文, English) labels owned by the customer service, for `label(...)` in templates.
LABELS = {
    "kind": KINDS,
    "gender": GENDERS,
    "marital_status": MARITAL_STATUSES,
    "repair_type": REPAIR_TYPES,
    "source": SOURCES,
}


@get("/customers", guards=[requires(*TENANT_ROLES)], include_in_schema=False)
async def customer_search(request: Request[Scope, Any, Any], actor: Scope, q: str = "") -> Template:
    """The search page; an htmx request (typing in the box) gets only the result table."""
    query = q.strip()[:MAX_QUERY]
    found = await search_customers(actor=actor, q=query, limit=SEARCH_LIMIT + 1) if query else []
    context = {
        "q": query,
        "results": found[:SEARCH_LIMIT],
        "has_more": len(found) > SEARCH_LIMIT,
        "limit": SEARCH_LIMIT,
        "labels": LABELS,
    }
    fragment = bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")
    template = "customers/_results.html" if fragment else "customers/search.html"
    # the same URL answers a page or a fragment: caches must keep them apart
    return Template(template, context=context, headers={"Vary": "HX-Request"})


@get("/customers/{customer_id:int}", guards=[requires(*TENANT_ROLES)], include_in_schema=False)
async def customer_page(actor: Scope, customer_id: int) -> Template:
    """Profile, vehicles, deliveries and visits; HQ also sees the customer's records in other stores."""
    if not 0 < customer_id <= _MAX_ID:
        raise NotFound("customer")
    profile = await customer_profile(actor=actor, customer_id=customer_id)
    vehicles = {v.id: v for v in profile.vehicles}
    for history in profile.other_stores:
        vehicles.update({v.id: v for v in history.vehicles})
    return Template(
        "customers/customer.html",
        context={"profile": profile, "vehicles_by_id": vehicles, "labels": LABELS},
    )


ROUTES = [customer_search, customer_page]
