"""Customer records pages (客户档案): search-as-you-type and the customer page.

Both read only through the customer service with the caller's scope; a customer
outside the scope is NotFound, which the error handler shows as the 404 page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from api.auth import requires
from api.lists import ListView
from crm import lists
from api.privacy.pages import revealed_fragment
from api.web.forms import existing_id, optional_int, page_or_fragment, store_choices
from crm.customers import corrections
from crm.customers.corrections import CORRECTION_READERS
from crm.customers.fields import fields_of
from crm.customers.history import CHANGE_LIST, VIAS, customer_changes
from crm.customers.service import (
    CUSTOMER_EDITORS,
    CUSTOMER_READERS,
    CUSTOMER_UPDATERS,
    GENDERS,
    KINDS,
    MARITAL_STATUSES,
    REPAIR_TYPES,
    REVEALABLE_FIELDS,
    SOURCES,
    create_customer,
    customer_profile,
    get_customer,
    reveal_customer_field,
    CUSTOMER_LIST,
    CustomerFilter,
    search_customers_page,
    update_customer,
)
from crm.customers.timeline import KINDS as TIMELINE_KINDS, customer_timeline
from crm.privacy import policy
from tenants.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tenants.scope import Scope

MAX_QUERY = 60

# Code → (中文, English) labels owned by the customer service, for `label(...)` in templates.
LABELS = {
    "kind": KINDS,
    "gender": GENDERS,
    "marital_status": MARITAL_STATUSES,
    "repair_type": REPAIR_TYPES,
    "source": SOURCES,
    "via": VIAS,
    "timeline": TIMELINE_KINDS,
}
# The profile fields the create and edit forms show, in the definition's order (DMS numbers come from the DMS).
FORM_FIELDS = tuple(f for f in fields_of("customer") if f.name != "dms_ref")


@get("/customers", guards=[requires(*CUSTOMER_READERS)], include_in_schema=False)
async def customer_search(request: Request[Scope, Any, Any], actor: Scope, q: str = "", sort: str = "",
                          page: str = "", page_size: str = "") -> Template:
    """The search page; an htmx request (typing in the box) gets only the result table. Results page with the
    total and sort by name, kind or store."""
    query = q.strip()[:MAX_QUERY]
    want = CUSTOMER_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = (await search_customers_page(actor=actor, filters=CustomerFilter(q=query), want=want) if query
             else want.page_of([], 0))
    context = {
        "q": query,
        "results": found.items,
        "view": ListView("/customers", CUSTOMER_LIST, want, found, {"q": query}),
        "labels": LABELS,
        "can_create": actor.has_role(*CUSTOMER_EDITORS),
    }
    return page_or_fragment(request, page="customers/search.html", fragment="customers/_results.html", context=context)


@get("/customers/{customer_id:int}", guards=[requires(*CUSTOMER_READERS)], include_in_schema=False)
async def customer_page(actor: Scope, customer_id: int, sort: str = "", page: str = "", page_size: str = ""
                        ) -> Template:
    """Profile, vehicles, deliveries and visits; HQ also sees the customer's records in other stores. The change
    history is a list of its own (`sort`, `page`, `page_size` are its)."""
    existing_id(customer_id, "customer")
    want = CHANGE_LIST.parse(sort=sort, page=page, page_size=page_size)
    profile = await customer_profile(actor=actor, customer_id=customer_id)
    vehicles = {v.id: v for v in profile.vehicles}
    for history in profile.other_stores:
        vehicles.update({v.id: v for v in history.vehicles})
    return Template(
        "customers/customer.html",
        context={"profile": profile, "vehicles_by_id": vehicles, "labels": LABELS,
                 "timeline": await customer_timeline(actor=actor, customer_id=customer_id, profile=profile),
                 "can_edit": actor.has_role(*CUSTOMER_UPDATERS),
                 "changes": ListView(f"/customers/{customer_id}", CHANGE_LIST, want,
                                     await customer_changes(actor=actor, customer_id=customer_id, want=want))},
    )


@get("/customers/new", guards=[requires(*CUSTOMER_EDITORS)], include_in_schema=False)
async def customer_new(actor: Scope) -> Template:
    """The empty profile form (新建客户)."""
    return await _profile_form(actor, values={"kind": "private"})


@post("/customers/new", guards=[requires(*CUSTOMER_EDITORS)], include_in_schema=False)
async def customer_create(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    """Save a new profile; bad input shows the form again with the problems beside the fields (400)."""
    form = await request.form()
    values = _submitted(form)
    try:
        store_id = optional_int(str(form.get("store_id", "")), "store_id")
        customer_id = await create_customer(actor=actor, store_id=store_id, source="manual", **_typed(values))
    except InvalidInput as invalid:
        return await _profile_form(actor, values=values, problems=invalid.problems, status=400)
    except Conflict as conflict:
        return await _profile_form(actor, values=values, status=409,
                                   problems=[FieldProblem("mobile", conflict.zh, conflict.en)])
    return Redirect(path=f"/customers/{customer_id}?ok=customer_created")


@get("/customers/{customer_id:int}/edit", guards=[requires(*CUSTOMER_UPDATERS)], include_in_schema=False)
async def customer_edit(actor: Scope, customer_id: int) -> Template:
    """The profile form filled with the profile as the caller may see it (personal fields masked per role)."""
    existing_id(customer_id, "customer")
    record = await get_customer(actor=actor, customer_id=customer_id)
    return await _profile_form(actor, values=_as_form(record), record=record)


@post("/customers/{customer_id:int}/edit", guards=[requires(*CUSTOMER_UPDATERS)], include_in_schema=False)
async def customer_update(request: Request[Scope, Any, Any], actor: Scope, customer_id: int) -> Template | Redirect:
    """Save the fields that changed (a masked value sent back unchanged is not a change); recorded in the
    change history by the service; bad input changes nothing and shows the form again (400)."""
    existing_id(customer_id, "customer")
    record = await get_customer(actor=actor, customer_id=customer_id)
    before = _as_form(record)
    values = _submitted(await request.form())
    try:
        changes = {k: v for k, v in values.items() if k not in _masked(actor, before) and v != before.get(k)}
        for name in _masked(actor, before):
            value = policy.edited(name, before[name], values[name])
            if value is not None:
                changes[name] = value
        if changes:
            await update_customer(actor=actor, customer_id=customer_id, **_typed(changes))
    except InvalidInput as invalid:
        return await _profile_form(actor, values=values, record=record, problems=invalid.problems, status=400)
    except Conflict as conflict:
        return await _profile_form(actor, values=values, record=record, status=409,
                                   problems=[FieldProblem("mobile", conflict.zh, conflict.en)])
    return Redirect(path=f"/customers/{customer_id}?ok=customer_saved")


def _masked(actor: Scope, shown: dict[str, str]) -> list[str]:
    """The personal fields the form shows masked to this caller (a stored value they may not see in clear)."""
    return [name for name in REVEALABLE_FIELDS if shown.get(name) and not policy.sees_clear(actor, name)]


async def _profile_form(actor: Scope, *, values: dict, record=None, problems=(), status: int = 200) -> Template:
    return Template("customers/profile_form.html", status_code=status, context={
        "values": values, "record": record, "problems": list(problems), "fields": FORM_FIELDS,
        "masked": _masked(actor, _as_form(record)) if record is not None else [],
        "stores": await store_choices(actor) if record is None and actor.is_group_level else [],
    })


def _submitted(form: Any) -> dict[str, str]:
    """The form's values as text; an unticked checkbox is "false"."""
    return {
        f.name: ("true" if form.get(f.name) else "false") if f.kind == "flag" else str(form.get(f.name, "")).strip()
        for f in FORM_FIELDS
    }


def _typed(values: dict[str, str]) -> dict[str, Any]:
    """Text to the types the service checks (dates, flags); a date that does not parse is left as text,
    which the service reports on its field."""
    kinds = {f.name: f.kind for f in FORM_FIELDS}
    typed: dict[str, Any] = {}
    for name, value in values.items():
        if kinds[name] == "flag":
            typed[name] = value == "true"
        elif kinds[name] == "date" and value:
            try:
                typed[name] = date.fromisoformat(value)
            except ValueError:
                typed[name] = value
        else:
            typed[name] = value if kinds[name] != "date" else None
    return typed


def _as_form(record: Any) -> dict[str, str]:
    values = {}
    for f in FORM_FIELDS:
        value = getattr(record, f.name)
        if f.kind == "flag":
            values[f.name] = "true" if value else "false"
        elif f.kind == "date":
            values[f.name] = value.isoformat() if value else ""
        else:
            values[f.name] = value or ""
    return values


@post("/customers/{customer_id:int}/reveal", guards=[requires(*CUSTOMER_READERS)], include_in_schema=False)
async def customer_reveal(request: Request[Scope, Any, Any], actor: Scope, customer_id: int) -> Template:
    """The "show" button of a masked mobile or ID number: the clear value in place (logged)."""
    existing_id(customer_id, "customer")

    async def reveal(field: str, reason: str) -> str:
        return await reveal_customer_field(actor=actor, customer_id=customer_id, field=field, reason=reason)

    return await revealed_fragment(request, reveal)


@get("/corrections", guards=[requires(*CORRECTION_READERS)], include_in_schema=False)
async def corrections_page(actor: Scope, which: Annotated[str, Parameter(query="state")] = "open", sort: str = "",
                           page: str = "", page_size: str = "") -> Template:
    """The managers' list of open correction requests with their countdowns; customer relations confirms here."""
    filters = corrections.CorrectionFilter(state=which if which in corrections.DEFAULT_SORTS else "open")
    want = corrections.CORRECTION_LIST.parse(sort=sort or filters.default_sort, page=page, page_size=page_size)
    return await _corrections_screen(actor, filters, want=want)


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
        return await _corrections_screen(actor, corrections.CorrectionFilter(), errors={correction_id: invalid.problems},
                                         status=400)
    except Conflict as conflict:
        return await _corrections_screen(actor, corrections.CorrectionFilter(), error=conflict.zh, status=409)
    return Redirect(path=f"/corrections?state={form.get('state', 'open')}&ok=correction_{step}")


async def _corrections_screen(actor: Scope, filters: corrections.CorrectionFilter, *,
                              want: lists.ListQuery | None = None, errors=None, error: str = "", status: int = 200
                              ) -> Template:
    want = want or corrections.CORRECTION_LIST.parse(sort=filters.default_sort)
    found = await corrections.list_corrections(actor=actor, filters=filters, want=want)
    view = ListView("/corrections", corrections.CORRECTION_LIST, want, found, {"state": filters.state})
    return Template("customers/corrections.html", status_code=status, context={
        "items": found.items, "view": view, "state": filters.state, "errors": errors or {}, "error": error,
    })


ROUTES = [customer_search, customer_new, customer_create, customer_page, customer_edit, customer_update, customer_reveal, corrections_page, correction_action]
