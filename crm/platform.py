"""The platform console (平台管理): the platform admin onboards dealer groups, suspends and reactivates them,
and sees each group's size and activity.

The platform admin belongs to no group and never reads a group's customer data: the console shows counts
only (stores, users, the latest sign-in, complaints this month). A suspended group's users cannot sign in
and their live sessions and tokens stop working (`tenants.scope.scope_for_user` refuses them); its data
and its timers stay as they are. Every change is audited with the group it acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from crm import clock, lists
from crm.complaints.tables import Complaint
from crm.db import transaction
from crm.notify.service import notify_users
from tenants import audit
from tenants.accounts import create_user, hash_password, issue_activation
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.passwords import random_password
from tenants.roles import Role
from tenants.scope import Scope
from tenants.tables import DealerGroup, Store, User

# Who runs the console: the route guards, the navigation and these services read this one definition.
PLATFORM_ADMINS = frozenset({Role.PLATFORM_ADMIN})
PAGE_SIZE = 30

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewGroup:
    code: str
    name: str
    admin_username: str
    admin_display_name: str
    timezone: str = "Asia/Shanghai"
    admin_email: str = ""


@dataclass(frozen=True)
class CreatedGroup:
    group_id: int
    admin_user_id: int
    # The one-time link, shown once to the platform admin; e-mailed to the group admin when an address is given.
    activation_link: str
    emailed: bool


async def create_group(*, actor: Scope, group: NewGroup) -> CreatedGroup:
    """A new dealer group with its timezone and its first group admin, who activates the account by a link."""
    actor.require_role(*PLATFORM_ADMINS)
    group = _cleaned(group)
    await _check(group)
    async with transaction():
        row = DealerGroup(code=group.code, name=group.name, timezone=group.timezone, active=True,
                          created_at=clock.now())
        await row.save()
        admin_id = await create_user(
            username=group.admin_username, password="", password_hash=hash_password(random_password()),
            display_name=group.admin_display_name, roles=[Role.GROUP_ADMIN], group_id=row.id,
            email=group.admin_email,
        )
        link = await issue_activation(admin_id)
        await audit.record(
            actor, "group.create", "dealer_group", row.id, group_id=row.id,
            after={"code": group.code, "name": group.name, "timezone": group.timezone,
                   "admin_username": group.admin_username, "admin_email": group.admin_email},
        )
        if group.admin_email:
            await notify_users(
                group_id=row.id, user_ids=[admin_id], kind="account_activation",
                title_zh=f"欢迎使用经销商客户关系平台：请激活{group.name}的管理员账号",
                title_en=f"Welcome to dealerdesk: activate the admin account of {group.name}",
                body_zh=f"集团代码：{group.code}，用户名：{group.admin_username}。请在 7 天内打开链接设置密码。",
                body_en=f"Group code: {group.code}, username: {group.admin_username}. "
                        "Open the link within 7 days to choose your password.",
                link=urlsplit(link).path, idempotency_key=f"activation:{admin_id}:{urlsplit(link).path[-12:]}",
                extra_channels=("email",),
            )
    return CreatedGroup(group_id=row.id, admin_user_id=admin_id, activation_link=link, emailed=bool(group.admin_email))


async def set_group_active(*, actor: Scope, group_id: int, active: bool) -> dict[str, Any]:
    """Suspend (停用) or reactivate (启用) a group. Its data and timers are left as they are."""
    actor.require_role(*PLATFORM_ADMINS)
    async with transaction():
        before = await DealerGroup.select(DealerGroup.active).where(DealerGroup.id == group_id).first()
        if before is None:
            raise NotFound("dealer_group")
        if before["active"] != active:
            await DealerGroup.update({DealerGroup.active: active}).where(DealerGroup.id == group_id)
            await audit.record(
                actor, "group.reactivate" if active else "group.suspend", "dealer_group", group_id,
                before={"active": before["active"]}, after={"active": active}, group_id=group_id,
            )
    return {"group_id": group_id, "active": active}


# The console's list. The counts (stores, users, sign-ins, complaints) are read per shown group, so they do not sort.
GROUP_LIST = lists.ListSpec(
    name="groups",
    sorts={
        "created": (DealerGroup.id,),
        "code": (DealerGroup.code,),
        "name": (DealerGroup.name,),
        "timezone": (DealerGroup.timezone,),
        "state": (DealerGroup.active,),
    },
    default_sort="-created",
    tiebreak=DealerGroup.id,
    page_size=PAGE_SIZE,
)


async def group_overview(*, actor: Scope, want: lists.ListQuery | None = None) -> lists.Page[dict[str, Any]]:
    """The groups, the latest created first and `PAGE_SIZE` a page, with their size and activity — counts only: the
    platform admin reads no customer data."""
    actor.require_role(*PLATFORM_ADMINS)
    want = want or GROUP_LIST.parse()
    groups, total = await lists.fetch(GROUP_LIST, want, count=DealerGroup.count(), rows=DealerGroup.select(
        DealerGroup.id, DealerGroup.code, DealerGroup.name, DealerGroup.timezone, DealerGroup.active,
        DealerGroup.created_at,
    ))
    now = clock.now()
    rows = []
    for group in groups:
        system = Scope.system(group["id"])
        last = await system.select(User, User.last_sign_in_at).where(User.last_sign_in_at.is_not_null()).order_by(
            User.last_sign_in_at, ascending=False
        ).first()
        rows.append({
            **group,
            "stores": await Store.count().where(Store.group == group["id"], Store.active.eq(True)),
            "users": await system.count(User).where(User.active.eq(True)),
            "last_sign_in_at": last["last_sign_in_at"] if last else None,
            "complaints_this_month": await system.count(Complaint).where(
                Complaint.received_at >= _month_start(now, group["timezone"])
            ),
        })
    return want.page_of(rows, total)


def _month_start(now: datetime, timezone: str) -> datetime:
    """The first instant of the current month on the group's wall clock."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _cleaned(group: NewGroup) -> NewGroup:
    return NewGroup(
        code=group.code.strip(), name=group.name.strip(), admin_username=group.admin_username.strip(),
        admin_display_name=group.admin_display_name.strip(), timezone=group.timezone.strip() or "Asia/Shanghai",
        admin_email=group.admin_email.strip(),
    )


async def _check(group: NewGroup) -> None:
    problems = []
    if not _CODE.match(group.code):
        problems.append(FieldProblem("code", "集团代码为 2–32 位字母、数字、- 或 _", "2–32 letters, digits, - or _"))
    elif await DealerGroup.exists().where(DealerGroup.code == group.code):
        problems.append(FieldProblem("code", "该集团代码已被使用", "This group code is already taken"))
    if not group.name or len(group.name) > 100:
        problems.append(FieldProblem("name", "请填写集团名称（不超过 100 字）", "Enter the group's name (up to 100 characters)"))
    elif await DealerGroup.exists().where(DealerGroup.name == group.name):
        problems.append(FieldProblem("name", "该集团名称已存在", "A group of this name exists"))
    if not _is_timezone(group.timezone):
        problems.append(FieldProblem("timezone", "时区无效，例如 Asia/Shanghai", "Unknown timezone, e.g. Asia/Shanghai"))
    if not _USERNAME.match(group.admin_username):
        problems.append(FieldProblem("admin_username", "用户名为 2–64 位字母、数字或 . _ - @",
                                     "2–64 letters, digits or . _ - @"))
    if not group.admin_display_name or len(group.admin_display_name) > 100:
        problems.append(FieldProblem("admin_display_name", "请填写管理员姓名（不超过 100 字）",
                                     "Enter the admin's name (up to 100 characters)"))
    if group.admin_email and (len(group.admin_email) > 200 or not _EMAIL.match(group.admin_email)):
        problems.append(FieldProblem("admin_email", "邮箱格式不正确", "Not an e-mail address"))
    if problems:
        raise InvalidInput(problems)


def _is_timezone(name: str) -> bool:
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
