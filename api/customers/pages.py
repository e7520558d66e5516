"""Customer records pages (客户档案): search-as-you-type and the customer page.

Both read only through the customer service with the caller's scope; a customer
outside the scope is NotFound, which the error handler shows as the 404 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from api.auth import requires
from api.i18n import extend
from api.privacy.pages import revealed_fragment
from api.web.forms import existing_id, page_or_fragment
from crm.customers import corrections
from crm.customers.corrections import CORRECTION_READERS
from crm.customers.history import VIAS, customer_changes
from crm.customers.service import (
    CUSTOMER_READERS,
    GENDERS,
    KINDS,
    MARITAL_STATUSES,
    REPAIR_TYPES,
    SOURCES,
    customer_profile,
    reveal_customer_field,
    search_customers,
)
from tenants.errors import Conflict, InvalidInput, NotFound
from tenants.scope import Scope

SEARCH_LIMIT = 20
MAX_QUERY = 60

# Code → (中文, English) labels owned by the customer service, for `label(...)` in templates.
LABELS = {
    "kind": KINDS,
    "gender": GENDERS,
    "marital_status": MARITAL_STATUSES,
    "repair_type": REPAIR_TYPES,
    "source": SOURCES,
    "via": VIAS,
}

extend({
    "customer.changes": ("变更记录", "Change history"),
    "customer.changes.none": ("暂无变更记录", "No changes yet"),
    "changes.col.at": ("时间", "When"),
    "changes.col.field": ("字段", "Field"),
    "changes.col.old": ("原值", "Old value"),
    "changes.col.new": ("新值", "New value"),
    "changes.col.by": ("修改人", "By"),
    "changes.col.via": ("方式", "How"),
    "corrections.title": ("客户资料修正", "Data corrections"),
    "corrections.intro": ("回访中发现的客户资料错误或缺失:相关部门经理须在24小时内修正或驳回,再由客关部确认。",
                          "Wrong or missing data found in callbacks: the owning department's manager corrects or "
                          "rejects it within 24 hours; customer relations then confirms."),
    "corrections.open": ("待处理", "Open"),
    "corrections.unconfirmed": ("待客关部确认", "Awaiting confirmation"),
    "corrections.all": ("全部", "All"),
    "corrections.none": ("没有修正申请", "No correction requests"),
    "corrections.col.customer": ("客户", "Customer"),
    "corrections.col.field": ("字段", "Field"),
    "corrections.col.change": ("原值 → 建议值", "Old → proposed"),
    "corrections.col.department": ("责任部门", "Department"),
    "corrections.col.found": ("发现人 / 说明", "Found by / reason"),
    "corrections.col.due": ("处理时限", "Deadline"),
    "corrections.col.state": ("状态", "State"),
    "corrections.missed": ("超时", "Missed"),
    "corrections.note": ("处理意见(驳回必填)", "Note (required to reject)"),
    "corrections.apply": ("修正", "Apply"),
    "corrections.reject": ("驳回", "Reject"),
    "corrections.confirm": ("确认", "Confirm"),
    "corrections.confirmed": ("{name} 已确认", "Confirmed by {name}"),
    "corrections.decided": ("{name}:{note}", "{name}: {note}"),
})


@get("/customers", guards=[requires(*CUSTOMER_READERS)], include_in_schema=False)
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
    return page_or_fragment(request, page="customers/search.html", fragment="customers/_results.html", context=context)


@get("/customers/{customer_id:int}", guards=[requires(*CUSTOMER_READERS)], include_in_schema=False)
async def customer_page(actor: Scope, customer_id: int) -> Template:
    """Profile, vehicles, deliveries and visits; HQ also sees the customer's records in other stores."""
    existing_id(customer_id, "customer")
    profile = await customer_profile(actor=actor, customer_id=customer_id)
    vehicles = {v.id: v for v in profile.vehicles}
    for history in profile.other_stores:
        vehicles.update({v.id: v for v in history.vehicles})
    return Template(
        "customers/customer.html",
        context={"profile": profile, "vehicles_by_id": vehicles, "labels": LABELS,
                 "changes": await customer_changes(actor=actor, customer_id=customer_id)},
    )


@post("/customers/{customer_id:int}/reveal", guards=[requires(*CUSTOMER_READERS)], include_in_schema=False)
async def customer_reveal(request: Request[Scope, Any, Any], actor: Scope, customer_id: int) -> Template:
    """The "show" button of a masked mobile or ID number: the clear value in place (logged)."""
    existing_id(customer_id, "customer")

    async def reveal(field: str, reason: str) -> str:
        return await reveal_customer_field(actor=actor, customer_id=customer_id, field=field, reason=reason)

    return await revealed_fragment(request, reveal)


@get("/corrections", guards=[requires(*CORRECTION_READERS)], include_in_schema=False)
async def corrections_page(actor: Scope, which: Annotated[str, Parameter(query="state")] = "open") -> Template:
    """The managers' list of open correction requests with their countdowns; customer relations confirms here."""
    return await _corrections_screen(actor, which)


@post("/corrections/{correction_id:int}/{step:str}", guards=[requires(*CORRECTION_READERS)],
      include_in_schema=False)
async def correction_action(
    request: Request[Scope, Any, Any], actor: Scope, correction_id: int, step: str
) -> Template | Redirect:
    """Apply, reject or confirm; a refusal shows the list again with the message (400 / 409)."""
    if step not in corrections.ACTIONS:
        raise NotFound("customer_correction")
    existing_id(correction_id, "customer_correction")
    form = await request.form()
    note = str(form.get("note", "")).strip()[:2000]
    try:
        if step == "apply":
            await corrections.apply_correction(actor=actor, correction_id=correction_id, note=note)
        elif step == "reject":
            await corrections.reject_correction(actor=actor, correction_id=correction_id, note=note)
        else:
            await corrections.confirm_correction(actor=actor, correction_id=correction_id)
    except InvalidInput as invalid:
        return await _corrections_screen(actor, "open", errors={correction_id: invalid.problems}, status=400)
    except Conflict as conflict:
        return await _corrections_screen(actor, "open", error=conflict.zh, status=409)
    return Redirect(path=f"/corrections?state={form.get('state', 'open')}")


async def _corrections_screen(actor: Scope, state: str, *, errors=None, error: str = "",
                              status: int = 200) -> Template:
    state = state if state in ("open", "unconfirmed", "all") else "open"
    items = await corrections.list_corrections(actor=actor, state=state)
    return Template("customers/corrections.html", status_code=status, context={
        "items": items, "state": state, "errors": errors or {}, "error": error,
    })


ROUTES = [customer_search, customer_page, customer_reveal, corrections_page, correction_action]
