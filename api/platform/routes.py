"""The platform console's JSON API; the rules are `crm.platform`'s."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Request, get, post

from api.auth import requires
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import text
from api.web.forms import existing_id
from crm import platform
from crm.lists import Page
from tenants.scope import Scope

GUARDS = [requires(*platform.PLATFORM_ADMINS)]


class NewGroupBody(msgspec.Struct, forbid_unknown_fields=True):
    code: text(32, 1)
    name: text(100, 1)
    admin_username: text(64, 1)
    admin_display_name: text(100, 1)
    timezone: text(64) = "Asia/Shanghai"
    admin_email: text(200) = ""


class CreatedGroupBody(msgspec.Struct):
    group_id: int
    admin_user_id: int
    activation_link: str
    emailed: bool


class GroupRow(msgspec.Struct):
    id: int
    code: str
    name: str
    timezone: str
    active: bool
    stores: int
    users: int
    last_sign_in_at: datetime | None
    complaints_this_month: int


class GroupState(msgspec.Struct):
    group_id: int
    active: bool


@get("/api/v1/platform/groups", guards=GUARDS, tags=["platform"])
async def list_groups(
    actor: Scope, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[GroupRow]:
    """The dealer groups, newest first, 30 a page, with their size and activity (counts only).
    `sort`: `created`, `code`, `name`, `timezone`, `state`; `-key` for descending."""
    want = platform.GROUP_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await platform.group_overview(actor=actor, want=want)
    return want.page_of([GroupRow(**{k: row[k] for k in GroupRow.__struct_fields__}) for row in found.items],
                        found.total)


@post("/api/v1/platform/groups", guards=GUARDS, tags=["platform"])
async def create_group(actor: Scope, data: NewGroupBody) -> CreatedGroupBody:
    """A new group and its first group admin; the one-time activation link is in the answer (and e-mailed when
    an address is given)."""
    created = await platform.create_group(actor=actor, group=platform.NewGroup(**msgspec.structs.asdict(data)))
    return CreatedGroupBody(**{k: getattr(created, k) for k in CreatedGroupBody.__struct_fields__})


@post("/api/v1/platform/groups/{group_id:int}/suspend", guards=GUARDS, tags=["platform"], status_code=200)
async def suspend_group(request: Request, actor: Scope, group_id: int) -> GroupState:
    """Its users cannot sign in and their sessions and tokens stop working; data and timers stay."""
    return await _set_active(request, actor, group_id, False)


@post("/api/v1/platform/groups/{group_id:int}/reactivate", guards=GUARDS, tags=["platform"], status_code=200)
async def reactivate_group(request: Request, actor: Scope, group_id: int) -> GroupState:
    """Reactivate a suspended dealer group: its users may sign in again."""
    return await _set_active(request, actor, group_id, True)


async def _set_active(request: Request, actor: Scope, group_id: int, active: bool) -> GroupState:
    state = await platform.set_group_active(actor=actor, group_id=existing_id(group_id, "dealer_group"), active=active)
    request.app.state.caller_cache.clear()  # at once here; within SCOPE_CACHE_SECONDS on other processes
    return GroupState(**state)


ROUTES = [list_groups, create_group, suspend_group, reactivate_group]
