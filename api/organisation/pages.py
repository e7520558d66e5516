"""Organisation and people pages (组织架构 / 人员管理): the group's divisions, regions and stores; a store's card;
the people list with search, creation and import; a person's page with edit, disable, enable and password reset.
Who may is `crm.organisation`'s decision; these pages only show it."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from api.auth import requires
from api.imports.pages import to_job
from api.lists import ListView
from api.web.forms import existing_id, optional_int, page_or_fragment
from crm import lists
from crm.imports import service as imports
from crm.organisation import people, structure
from crm.organisation.access import ORGANISATION_ADMINS, PEOPLE_ADMINS, PEOPLE_READERS, STORE_READERS
from crm.satisfaction.sheets import MAX_FILE_BYTES
from tenants.errors import InvalidInput
from tenants.roles import GROUP_ROLES, Role
from tenants.scope import Scope


# ---------------------------------------------------------------- organisation


@get("/organisation", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def organisation_page(actor: Scope) -> Template:
    return await _organisation(actor)


@post("/organisation/divisions", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def division_create(request: Request, actor: Scope) -> Template | Redirect:
    form = await request.form()
    return await _or_organisation(actor, structure.create_division(
        actor=actor, name=form.get("name", ""), code=form.get("code", "")))


@post("/organisation/divisions/{division_id:int}", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def division_update(request: Request, actor: Scope, division_id: int) -> Template | Redirect:
    form = await request.form()
    return await _or_organisation(actor, structure.update_division(
        actor=actor, division_id=existing_id(division_id, "brand_division"), name=form.get("name", ""),
        code=form.get("code", "")))


@post("/organisation/regions", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def region_create(request: Request, actor: Scope) -> Template | Redirect:
    form = await request.form()
    return await _or_organisation(actor, structure.create_region(actor=actor, name=form.get("name", "")))


@post("/organisation/regions/{region_id:int}", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def region_update(request: Request, actor: Scope, region_id: int) -> Template | Redirect:
    form = await request.form()
    return await _or_organisation(actor, structure.update_region(
        actor=actor, region_id=existing_id(region_id, "region"), name=form.get("name", "")))


@post("/organisation/stores", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def store_create(request: Request, actor: Scope) -> Template | Redirect:
    form = await request.form()
    try:
        store = await structure.create_store(actor=actor, values=_store_values(form))
    except InvalidInput as invalid:
        return await _organisation(actor, errors=invalid.problems, form=dict(form), status_code=400)
    request.app.state.caller_cache.clear()
    return Redirect(f"/organisation/stores/{store['id']}", status_code=303)


@get("/organisation/stores/{store_id:int}", include_in_schema=False, guards=[requires(*STORE_READERS)])
async def store_page(actor: Scope, store_id: int) -> Template:
    return await _store_page(actor, existing_id(store_id, "store"))


@post("/organisation/stores/{store_id:int}", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def store_update(request: Request, actor: Scope, store_id: int) -> Template | Redirect:
    store_id = existing_id(store_id, "store")
    form = await request.form()
    try:
        await structure.update_store(actor=actor, store_id=store_id, values=_store_values(form))
    except InvalidInput as invalid:
        return await _store_page(actor, store_id, errors=invalid.problems, form=dict(form), status_code=400)
    request.app.state.caller_cache.clear()
    return Redirect(f"/organisation/stores/{store_id}", status_code=303)


@post("/organisation/stores/{store_id:int}/close", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def store_close(actor: Scope, store_id: int) -> Redirect:
    await structure.close_store(actor=actor, store_id=existing_id(store_id, "store"))
    return Redirect(f"/organisation/stores/{store_id}", status_code=303)


@post("/organisation/stores/{store_id:int}/reopen", include_in_schema=False, guards=[requires(*ORGANISATION_ADMINS)])
async def store_reopen(actor: Scope, store_id: int) -> Redirect:
    await structure.reopen_store(actor=actor, store_id=existing_id(store_id, "store"))
    return Redirect(f"/organisation/stores/{store_id}", status_code=303)


# ---------------------------------------------------------------- people


@get("/people", include_in_schema=False, guards=[requires(*PEOPLE_READERS)])
async def people_page(request: Request, actor: Scope, q: str = "", store: str = "", sort: str = "", page: str = "",
                      page_size: str = "") -> Template:
    listing = await _listing(actor, q, store, people.PEOPLE_LIST.parse(sort=sort, page=page, page_size=page_size))
    context = await _people_context(actor, listing=listing)
    return page_or_fragment(request, page="organisation/people.html", fragment="organisation/_people_list.html",
                            context=context)


@post("/people", include_in_schema=False, guards=[requires(*PEOPLE_ADMINS)])
async def person_create(request: Request, actor: Scope) -> Template:
    form = await request.form()
    try:
        user, password = await people.create_person(actor=actor, data=_person_input(form, creating=True))
    except InvalidInput as invalid:
        context = await _people_context(actor, listing=await _listing(actor, "", ""), errors=invalid.problems,
                                        form=dict(form), chosen=form.getall("roles", []))
        return Template("organisation/people.html", context=context, status_code=400)
    return await _person_page(actor, user["id"], password=password, status_code=201)


@post("/people/import", include_in_schema=False, guards=[requires(*PEOPLE_ADMINS)],
      request_max_body_size=MAX_FILE_BYTES + 64 * 1024)
async def people_import_submit(request: Request, actor: Scope) -> Template | Redirect | ClientRedirect:
    """Keep the sheet and start its import job; the browser goes to the job's progress page."""
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput.one("file", "请选择文件", "Choose a file")
        job = await imports.start_import(actor=actor, kind="people", filename=upload.filename, upload=upload.file,
                                         accept_valid_rows=form.get("accept_valid_rows") == "1")
    except InvalidInput as invalid:
        context = await _people_context(actor, listing=await _listing(actor, "", ""), errors=invalid.problems)
        return Template("organisation/people.html", context=context, status_code=400)
    return to_job(request, job)


@get("/people/{user_id:int}", include_in_schema=False, guards=[requires(*PEOPLE_READERS)])
async def person_page(actor: Scope, user_id: int) -> Template:
    return await _person_page(actor, existing_id(user_id, "user"))


@post("/people/{user_id:int}", include_in_schema=False, guards=[requires(*PEOPLE_ADMINS)])
async def person_update(request: Request, actor: Scope, user_id: int) -> Template | Redirect:
    user_id = existing_id(user_id, "user")
    form = await request.form()
    try:
        data = _person_input(form, creating=False)
        changes = {"display_name": data.display_name, "roles": data.roles, "store_id": data.store_id,
                   "brand_division_id": data.brand_division_id, "email": data.email, "phone": data.phone}
        await people.update_person(actor=actor, user_id=user_id, changes=changes)
    except InvalidInput as invalid:
        return await _person_page(actor, user_id, errors=invalid.problems, status_code=400)
    request.app.state.caller_cache.clear()
    return Redirect(f"/people/{user_id}", status_code=303)


@post("/people/{user_id:int}/disable", include_in_schema=False, guards=[requires(*PEOPLE_ADMINS)])
async def person_disable(request: Request, actor: Scope, user_id: int) -> Template:
    user = await people.disable_person(actor=actor, user_id=existing_id(user_id, "user"))
    request.app.state.caller_cache.clear()
    return await _person_page(actor, user_id, released=user["released"])


@post("/people/{user_id:int}/enable", include_in_schema=False, guards=[requires(*PEOPLE_ADMINS)])
async def person_enable(request: Request, actor: Scope, user_id: int) -> Redirect:
    await people.enable_person(actor=actor, user_id=existing_id(user_id, "user"))
    request.app.state.caller_cache.clear()
    return Redirect(f"/people/{user_id}", status_code=303)


@post("/people/{user_id:int}/reset-password", include_in_schema=False, guards=[requires(*PEOPLE_ADMINS)])
async def person_reset_password(request: Request, actor: Scope, user_id: int) -> Template:
    password = await people.reset_password(actor=actor, user_id=existing_id(user_id, "user"))
    request.app.state.caller_cache.clear()
    return await _person_page(actor, user_id, password=password)


ROUTES = [organisation_page, division_create, division_update, region_create, region_update, store_create,
          store_page, store_update, store_close, store_reopen, people_page, person_create, people_import_submit,
          person_page, person_update, person_disable, person_enable, person_reset_password]


# ---------------------------------------------------------------- helpers


async def _organisation(actor: Scope, **context: Any) -> Template:
    status = context.pop("status_code", 200)
    data = await structure.organisation(actor=actor)
    return Template("organisation/organisation.html", status_code=status, context={
        **data, "store_fields": structure.STORE_FIELDS, "hours": structure.HOURS, "errors": [], "form": {},
        **context})


async def _or_organisation(actor: Scope, change) -> Template | Redirect:
    """Run a change of the organisation page: back to the page, or the page with the problems (400)."""
    try:
        await change
    except InvalidInput as invalid:
        return await _organisation(actor, errors=invalid.problems, status_code=400)
    return Redirect("/organisation", status_code=303)


async def _store_page(actor: Scope, store_id: int, **context: Any) -> Template:
    status = context.pop("status_code", 200)
    store = await structure.store_detail(actor=actor, store_id=store_id)
    can_edit = actor.has_role(*ORGANISATION_ADMINS)
    data = await structure.organisation(actor=actor) if can_edit else {"divisions": [], "regions": []}
    return Template("organisation/store.html", status_code=status, context={
        "store": store, "can_edit": can_edit, "divisions": data["divisions"], "regions": data["regions"],
        "store_fields": structure.STORE_FIELDS, "hours": structure.HOURS, "errors": [], "form": {}, **context})


def _store_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: form.get(f.name, "") for f in structure.STORE_FIELDS}
    values["brand_division_id"] = optional_int(form.get("brand_division_id", ""), "brand_division_id")
    values["region_id"] = optional_int(form.get("region_id", ""), "region_id")
    values.update({name: form.get(name, "").strip() or None for name in structure.HOURS})
    return values


async def _listing(actor: Scope, q: str, store: str, want: lists.ListQuery | None = None) -> dict[str, Any]:
    want = want or people.PEOPLE_LIST.parse()
    filters = people.PeopleFilter(q=q[:50].replace("\x00", ""), store_id=optional_int(store))
    found = await people.list_people(actor=actor, filters=filters, want=want)
    return {"items": found.items, "total": found.total, "q": q, "store": filters.store_id,
            "view": ListView("/people", people.PEOPLE_LIST, want, found, {"q": q, "store": filters.store_id})}


async def _people_context(actor: Scope, **context: Any) -> dict[str, Any]:
    return {
        "can_manage": actor.has_role(*PEOPLE_ADMINS),
        "roles": people.role_choices(actor), "group_roles": GROUP_ROLES,
        "stores": await structure.store_picker(actor=actor),
        "divisions": (await structure.organisation(actor=actor))["divisions"]
        if actor.has_role(Role.GROUP_ADMIN) else [],
        "errors": [], "form": {}, "chosen": [], **context,
    }


async def _person_page(actor: Scope, user_id: int, **context: Any) -> Template:
    status = context.pop("status_code", 200)
    user = await people.person(actor=actor, user_id=user_id)
    return Template("organisation/person.html", status_code=status, context={
        **await _people_context(actor), "person": user, "password": None, "released": None, **context})


def _person_input(form: Any, *, creating: bool) -> people.PersonInput:
    return people.PersonInput(
        username=form.get("username", "") if creating else "",
        display_name=form.get("display_name", ""),
        roles=form.getall("roles", []) if hasattr(form, "getall") else [],
        store_id=optional_int(form.get("store_id", ""), "store_id"),
        brand_division_id=optional_int(form.get("brand_division_id", ""), "brand_division_id"),
        email=form.get("email", ""), phone=form.get("phone", ""),
    )
