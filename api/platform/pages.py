"""The platform console's page: the groups with their size and activity, a form to onboard a group, and
suspend / reactivate buttons. The activation link of a new group admin is shown once, on the answer page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.lists import ListView
from api.web.forms import existing_id
from crm import lists, platform
from tenants.errors import InvalidInput
from tenants.scope import Scope

GUARDS = [requires(*platform.PLATFORM_ADMINS)]
# The new-group form's fields and their labels' keys.
FIELDS = {name: f"platform.field.{name}"
          for name in ("code", "name", "timezone", "admin_username", "admin_display_name", "admin_email")}


@get("/platform", guards=GUARDS, include_in_schema=False)
async def console(actor: Scope, sort: str = "", page: str = "", page_size: str = "") -> Template:
    return await _console(actor, want=platform.GROUP_LIST.parse(sort=sort, page=page, page_size=page_size))


@post("/platform/groups", guards=GUARDS, include_in_schema=False)
async def create_group(request: Request[Scope, Any, Any], actor: Scope) -> Template:
    form = await request.form()
    typed = {field: str(form.get(field, "")) for field in FIELDS}
    try:
        created = await platform.create_group(actor=actor, group=platform.NewGroup(**typed))
    except InvalidInput as invalid:
        return await _console(actor, typed=typed, problems=invalid.problems, status=400)
    return await _console(actor, created=created, status=201)


@post("/platform/groups/{group_id:int}/suspend", guards=GUARDS, include_in_schema=False)
async def suspend_group(request: Request, actor: Scope, group_id: int) -> Redirect:
    return await _set_active(request, actor, group_id, False)


@post("/platform/groups/{group_id:int}/reactivate", guards=GUARDS, include_in_schema=False)
async def reactivate_group(request: Request, actor: Scope, group_id: int) -> Redirect:
    return await _set_active(request, actor, group_id, True)


async def _set_active(request: Request, actor: Scope, group_id: int, active: bool) -> Redirect:
    await platform.set_group_active(actor=actor, group_id=existing_id(group_id, "dealer_group"), active=active)
    request.app.state.caller_cache.clear()
    return Redirect(path=f"/platform?ok=group_{'reactivated' if active else 'suspended'}", status_code=HTTP_303_SEE_OTHER)


async def _console(actor: Scope, *, want: lists.ListQuery | None = None, typed=None, problems=None, created=None,
                   status: int = 200) -> Template:
    want = want or platform.GROUP_LIST.parse()
    found = await platform.group_overview(actor=actor, want=want)
    return Template("platform/console.html", status_code=status, context={
        "found": found, "view": ListView("/platform", platform.GROUP_LIST, want, found), "fields": FIELDS,
        "typed": typed or {"timezone": "Asia/Shanghai"}, "problems": problems or [], "created": created,
    })


ROUTES = [console, create_group, suspend_group, reactivate_group]
