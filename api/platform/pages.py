"""The platform console's page: the groups with their size and activity, a form to onboard a group, and
suspend / reactivate buttons. The activation link of a new group admin is shown once, on the answer page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.i18n import extend
from api.lists import ListView
from api.web.forms import existing_id
from crm import lists, platform
from tenants.errors import InvalidInput
from tenants.scope import Scope

GUARDS = [requires(*platform.PLATFORM_ADMINS)]
# The new-group form's fields and their labels' keys.
FIELDS = {name: f"platform.field.{name}"
          for name in ("code", "name", "timezone", "admin_username", "admin_display_name", "admin_email")}

extend({
    "platform.title": ("平台管理", "Platform console"),
    "platform.groups": ("经销商集团", "Dealer groups"),
    "platform.col.code": ("集团代码", "Group code"),
    "platform.col.name": ("集团名称", "Name"),
    "platform.col.timezone": ("时区", "Timezone"),
    "platform.col.state": ("状态", "State"),
    "platform.col.stores": ("门店数", "Stores"),
    "platform.col.users": ("用户数", "Users"),
    "platform.col.last_sign_in": ("最近登录", "Last sign-in"),
    "platform.col.complaints": ("本月投诉", "Complaints this month"),
    "platform.active": ("启用", "Active"),
    "platform.suspended": ("已停用", "Suspended"),
    "platform.suspend": ("停用", "Suspend"),
    "platform.reactivate": ("重新启用", "Reactivate"),
    "platform.none": ("尚无集团", "No groups yet"),
    "platform.new": ("新建集团", "New dealer group"),
    "platform.field.code": ("集团代码", "Group code"),
    "platform.field.name": ("集团名称", "Group name"),
    "platform.field.timezone": ("时区", "Timezone"),
    "platform.field.admin_username": ("集团管理员用户名", "Group admin's username"),
    "platform.field.admin_display_name": ("集团管理员姓名", "Group admin's name"),
    "platform.field.admin_email": ("集团管理员邮箱(选填,激活链接将发送到此邮箱)",
                                   "Group admin's e-mail (optional: the activation link is sent there)"),
    "platform.create": ("创建集团", "Create the group"),
    "platform.created": ("集团已创建。", "The group is created."),
    "platform.link": ("激活链接(仅显示这一次,7 天内有效):", "Activation link (shown this once, valid for 7 days):"),
    "platform.emailed": ("激活链接已发送到集团管理员的邮箱。", "The activation link was e-mailed to the group admin."),
    "platform.counts_only": ("平台只显示各集团的数量与活跃度,不显示客户资料。",
                             "The platform sees counts and activity only, never a group's customer data."),
})


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
    return Redirect(path="/platform", status_code=HTTP_303_SEE_OTHER)


async def _console(actor: Scope, *, want: lists.ListQuery | None = None, typed=None, problems=None, created=None,
                   status: int = 200) -> Template:
    want = want or platform.GROUP_LIST.parse()
    found = await platform.group_overview(actor=actor, want=want)
    return Template("platform/console.html", status_code=status, context={
        "found": found, "view": ListView("/platform", platform.GROUP_LIST, want, found), "fields": FIELDS,
        "typed": typed or {"timezone": "Asia/Shanghai"}, "problems": problems or [], "created": created,
    })


ROUTES = [console, create_group, suspend_group, reactivate_group]
