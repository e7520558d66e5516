"""People (人员): the users of a group — list and search, create with roles and a place, edit, disable, enable,
reset the password.

A user is placed either at a store (store roles: 总经理, 客户关系部经理 …) or at the group (group roles: HQ, call
center, brand division — optionally limited to one brand division). Who may manage whom is `access`'s rule.

Disabling a user (停用) acts at once: their API tokens are revoked and their web sessions ended, so whatever they
have open stops working on its next request; their claimed callbacks go back to the queue, and the complaints
they handle pass to their store's customer-relations manager (else the GM), who is notified.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from crm import clock, lists
from crm.callbacks.service import release_claims_of
from crm.complaints.service import complaints_handled_by, hand_over
from crm.customers.validation import check_phone
from crm.db import UNIQUE_VIOLATIONS, like_term, savepoint, transaction
from crm.notify.service import notify_users
from crm.organisation.access import PEOPLE_ADMINS, PEOPLE_READERS, grantable_roles, may_manage, require_manager
from crm.sessions import end_all_sessions
from tenants import audit
from tenants.accounts import hash_password, set_temporary_password
from tenants.passwords import random_password
from tenants.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tenants.roles import GROUP_ROLES, STORE_ROLES, TENANT_ROLES, Role
from tenants.scope import Scope
from tenants.tables import ApiToken, BrandDivision, Store, User, UserRole

USERNAME = re.compile(r"^[\w.@-]{2,64}$")
PAGE_SIZE = 50
# Who takes over a disabled user's complaints at their store, in order.
HANDOVER_ROLES = (Role.STORE_CR_MANAGER, Role.STORE_GM)
_COLUMNS = (User.id, User.username, User.display_name, User.email, User.phone, User.store, User.brand_division,
            User.active, User.must_change_password, User.created_at, User.group)


@dataclass(frozen=True)
class PersonInput:
    """What a form, an API call or a sheet row says about a user (`username` only counts on creation)."""

    display_name: str
    roles: list[str]
    store_id: int | None = None
    brand_division_id: int | None = None
    email: str = ""
    phone: str = ""
    username: str = ""


# ---------------------------------------------------------------- reading


PEOPLE_LIST = lists.ListSpec(
    name="people",
    sorts={"default": (lists.Reverse(User.active), User.username), "username": (User.username,),
           "name": (User.display_name,), "store": (User.store.name,), "status": (User.active,)},
    default_sort="default",
    tiebreak=User.id,
    page_size=PAGE_SIZE,
)


@dataclass(frozen=True)
class PeopleFilter:
    """What the people list keeps: the JSON list and the page each build one and pass it down."""

    q: str = ""  # username, name or phone
    store_id: int | None = None
    role: str | None = None
    active: bool | None = None


async def list_people(
    *, actor: Scope, filters: PeopleFilter = PeopleFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[dict[str, Any]]:
    """The users the caller may see (active first, by username), a page at a time with the total."""
    want = want or PEOPLE_LIST.parse()
    actor.require_role(*PEOPLE_READERS)
    condition = _visible(actor)
    if filters.q.strip():
        term = f"%{like_term(filters.q.strip())[:50]}%"
        condition &= User.username.ilike(term) | User.display_name.ilike(term) | User.phone.ilike(term)
    if filters.store_id is not None:
        condition &= User.store == filters.store_id
    if filters.role:
        condition &= User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == filters.role))
    if filters.active is not None:
        condition &= User.active.eq(filters.active)
    rows, total = await lists.fetch(PEOPLE_LIST, want, rows=actor.select(User, *_COLUMNS, group_rows=True).where(
        condition), count=actor.count(User, group_rows=True).where(condition))
    return want.page_of(await _described(actor, rows), total)


async def person(*, actor: Scope, user_id: int) -> dict[str, Any]:
    actor.require_role(*PEOPLE_READERS)
    return (await _described(actor, [await _load(actor, user_id)]))[0]


def role_choices(actor: Scope) -> list[Role]:
    """The roles the caller may grant, in the order of `Role` (for the form)."""
    allowed = grantable_roles(actor)
    return [r for r in Role if r in allowed]


# ---------------------------------------------------------------- changing


async def create_person(*, actor: Scope, data: PersonInput) -> tuple[dict[str, Any], str]:
    """A new user with a temporary password (returned once; the first sign-in must change it)."""
    actor.require_role(*PEOPLE_ADMINS)
    roles, values = await _checked(actor, data, creating=True)
    require_manager(actor, store_id=values["store"], roles=roles)
    password = random_password()
    async with transaction():
        user_id = await _insert(actor, data.username.strip(), values, roles, hash_password(password))
        await audit.record(actor, "user.create", "user", user_id,
                           after={"username": data.username.strip(), **values, "roles": sorted(roles)})
    return await person(actor=actor, user_id=user_id), password


async def update_person(*, actor: Scope, user_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit a user's name, contact, roles and place (only the fields in `changes`); the caller must manage them
    both before and after."""
    actor.require_role(*PEOPLE_ADMINS)
    async with transaction():
        before = await _load(actor, user_id)
        old_roles = await _roles_of(user_id)
        require_manager(actor, store_id=before["store"], roles=old_roles)
        current = {"display_name": before["display_name"], "email": before["email"], "phone": before["phone"],
                   "roles": sorted(str(r) for r in old_roles), "store_id": before["store"],
                   "brand_division_id": before["brand_division"]}
        data = PersonInput(**(current | {k: v for k, v in changes.items() if k in current}))
        roles, values = await _checked(actor, data, creating=False, current_store=before["store"])
        require_manager(actor, store_id=values["store"], roles=roles)
        if user_id == actor.user_id and old_roles - roles:
            raise InvalidInput.one("roles", "不能取消自己的角色", "You cannot remove your own roles")
        await actor.update(User, {getattr(User, k): v for k, v in values.items()}, group_rows=True).where(
            User.id == user_id)
        if roles != old_roles:
            await UserRole.delete().where(UserRole.user == user_id)
            await UserRole.insert(*[UserRole(user=user_id, role=str(r)) for r in sorted(roles)])
        await audit.record(actor, "user.update", "user", user_id,
                           before={**{k: before[k] for k in values}, "roles": sorted(old_roles)},
                           after={**values, "roles": sorted(roles)})
    return await person(actor=actor, user_id=user_id)


async def disable_person(*, actor: Scope, user_id: int) -> dict[str, Any]:
    """停用: the user can do nothing more, at once, and their open work is handed to their store's manager."""
    actor.require_role(*PEOPLE_ADMINS)
    if user_id == actor.user_id:
        await _load(actor, user_id)
        raise Conflict("不能停用自己的账号", "You cannot disable your own account")
    async with transaction():
        user = await _managed(actor, user_id)
        group_id = user["group"]
        summary = {"tokens_revoked": 0, "callbacks_released": 0, "complaints_reassigned": 0}
        if user["active"]:
            await actor.update(User, {User.active: False}, group_rows=True).where(User.id == user_id)
            summary["tokens_revoked"] = await ApiToken.count().where(ApiToken.user == user_id)
            await ApiToken.delete().where(ApiToken.user == user_id)
            summary.update(await _release_work(actor, user, group_id))
            await audit.record(actor, "user.disable", "user", user_id, before={"active": True},
                               after={"active": False, **summary})
    summary["sessions_ended"] = await end_all_sessions(user_id)
    return {**await person(actor=actor, user_id=user_id), "released": summary}


async def enable_person(*, actor: Scope, user_id: int) -> dict[str, Any]:
    """启用 again: the user signs in with their password as before (reset it if they no longer know it)."""
    actor.require_role(*PEOPLE_ADMINS)
    async with transaction():
        user = await _managed(actor, user_id)
        if not user["active"]:
            await actor.update(User, {User.active: True}, group_rows=True).where(User.id == user_id)
            await audit.record(actor, "user.enable", "user", user_id, before={"active": False}, after={"active": True})
    return await person(actor=actor, user_id=user_id)


async def reset_password(*, actor: Scope, user_id: int) -> str:
    """A new temporary password (shown once); the user's sessions and tokens end, the next sign-in changes it."""
    actor.require_role(*PEOPLE_ADMINS)
    await _managed(actor, user_id)
    return await set_temporary_password(actor, user_id)


# ---------------------------------------------------------------- helpers


def _visible(actor: Scope):
    """The users the caller may see: a group admin all of the group (group-level users too), others their stores'."""
    if actor.has_role(Role.GROUP_ADMIN):
        return User.group == (actor.group_id or -1)
    return User.store.is_in(sorted(actor.store_ids) or [-1])


async def _load(actor: Scope, user_id: int) -> dict[str, Any]:
    user = await actor.select(User, *_COLUMNS, group_rows=True).where(User.id == user_id, _visible(actor)).first()
    if user is None:
        raise NotFound("user")
    return user


async def _managed(actor: Scope, user_id: int) -> dict[str, Any]:
    user = await _load(actor, user_id)
    require_manager(actor, store_id=user["store"], roles=await _roles_of(user_id))
    return user


async def _roles_of(user_id: int) -> frozenset[Role]:
    rows = await UserRole.select(UserRole.role).where(UserRole.user == user_id)
    return frozenset(Role(r["role"]) for r in rows if r["role"] in Role._value2member_map_)


async def _described(actor: Scope, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows] or [-1]
    roles: dict[int, list[str]] = defaultdict(list)
    for r in await UserRole.select(UserRole.user, UserRole.role).where(UserRole.user.is_in(ids)).order_by(UserRole.role):
        roles[r["user"]].append(r["role"])
    group = actor.group_id or -1
    stores = {s["id"]: s for s in await Store.select(Store.id, Store.name, Store.code).where(Store.group == group)}
    divisions = {d["id"]: d["name"] for d in await BrandDivision.select(BrandDivision.id, BrandDivision.name).where(
        BrandDivision.group == group)}
    out = []
    for row in rows:
        held = [Role(r) for r in roles[row["id"]] if r in Role._value2member_map_]
        store = stores.get(row["store"])
        out.append({
            "id": row["id"], "username": row["username"], "display_name": row["display_name"],
            "email": row["email"], "phone": row["phone"],
            "roles": [str(r) for r in held], "role_titles": [r.title_zh for r in held],
            "role_titles_en": [r.title_en for r in held],
            "store_id": row["store"], "store_name": store["name"] if store else "",
            "brand_division_id": row["brand_division"], "brand_division_name": divisions.get(row["brand_division"], ""),
            "active": row["active"], "must_change_password": row["must_change_password"],
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "may_manage": may_manage(actor, store_id=row["store"], roles=held) and row["id"] != actor.user_id,
        })
    return out


async def _checked(
    actor: Scope, data: PersonInput, *, creating: bool, current_store: int | None = None
) -> tuple[frozenset[Role], dict[str, Any]]:
    """The roles and the user's columns, or every problem of the input at once (zh/en field messages)."""
    problems: list[FieldProblem] = []
    if creating:
        problems += await _username_problems(actor, data.username.strip())
    name = data.display_name.strip()
    if not name:
        problems.append(FieldProblem("display_name", "请填写姓名", "Enter the name"))
    elif len(name) > 100:
        problems.append(FieldProblem("display_name", "姓名不能超过100个字符", "At most 100 characters"))
    email, phone = data.email.strip(), data.phone.strip()
    if email and (len(email) > 200 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        problems.append(FieldProblem("email", "邮箱格式不正确", "Not an e-mail address"))
    if phone:
        try:
            phone = check_phone(phone, "phone")
        except InvalidInput as problem:
            problems.extend(problem.problems)
    roles = frozenset(Role(r) for r in data.roles if r in Role._value2member_map_ and Role(r) in TENANT_ROLES)
    if len(roles) != len(set(data.roles)):
        problems.append(FieldProblem("roles", "角色无效", "Unknown role"))
    elif not roles:
        problems.append(FieldProblem("roles", "请至少选择一个角色", "Choose at least one role"))
    else:
        problems += await _placement_problems(actor, roles, data.store_id, data.brand_division_id, current_store)
    if problems:
        raise InvalidInput(problems)
    values = {"display_name": name, "email": email, "phone": phone, "store": data.store_id,
              "brand_division": data.brand_division_id}
    return roles, values


async def _placement_problems(
    actor: Scope, roles: frozenset[Role], store_id: int | None, division_id: int | None, current_store: int | None
) -> list[FieldProblem]:
    problems = []
    group_level, store_level = bool(roles & GROUP_ROLES), bool(roles & STORE_ROLES)
    if group_level and store_level:
        problems.append(FieldProblem("roles", "集团角色与门店角色不能授予同一用户", "Group and store roles cannot be mixed"))
    if store_level and store_id is None:
        problems.append(FieldProblem("store_id", "门店角色必须指定门店", "Store roles need a store"))
    if group_level and store_id is not None:
        problems.append(FieldProblem("store_id", "集团角色不属于门店，请不要选择门店", "Group roles belong to no store"))
    if store_id is not None:
        store = await Store.select(Store.active).where(Store.id == store_id, Store.group == (actor.group_id or -1)).first()
        if store is None or not actor.can_see_store(store_id):
            problems.append(FieldProblem("store_id", "门店不存在", "Unknown store"))
        elif not store["active"] and store_id != current_store:
            problems.append(FieldProblem("store_id", "该门店已关闭", "The store is closed"))
    if division_id is not None:
        if not group_level:
            problems.append(FieldProblem("brand_division_id", "只有集团角色可以限定品牌事业部",
                                         "Only group roles are limited to a brand division"))
        elif not await BrandDivision.exists().where(BrandDivision.id == division_id,
                                                    BrandDivision.group == (actor.group_id or -1)):
            problems.append(FieldProblem("brand_division_id", "品牌事业部不存在", "Unknown brand division"))
    return problems


async def _username_problems(actor: Scope, username: str) -> list[FieldProblem]:
    if not USERNAME.match(username):
        return [FieldProblem("username", "用户名须为2–64位字母、数字或 _ . @ -", "2–64 letters, digits or _ . @ -")]
    if await Scope.system(actor.group_id).exists(User).where(User.username == username):
        return [_TAKEN]
    return []


_TAKEN = FieldProblem("username", "用户名已被使用", "This username is taken")


async def _insert(actor: Scope, username: str, values: dict[str, Any], roles: frozenset[Role], password_hash: str) -> int:
    """Insert the user and their roles; a username taken meanwhile (or elsewhere) is a field problem, not a 500."""
    try:
        async with savepoint():
            rows = await User.insert(User(
                username=username, password_hash=password_hash, group=actor.group_id, must_change_password=True,
                created_at=clock.now(), **values,
            )).returning(User.id)
    except UNIQUE_VIOLATIONS:
        raise InvalidInput([_TAKEN]) from None
    user_id = rows[0]["id"]
    await UserRole.insert(*[UserRole(user=user_id, role=str(r)) for r in sorted(roles)])
    return user_id


async def _release_work(actor: Scope, user: dict[str, Any], group_id: int) -> dict[str, int]:
    """Claimed callbacks back to the queue, handled complaints to the store's manager; each manager is told."""
    released = await release_claims_of(group_id=group_id, user_id=user["id"])
    complaints = await complaints_handled_by(group_id=group_id, user_id=user["id"])
    managers: dict[int, int | None] = {}
    for store_id in {r["store"] for r in released} | {c.store for c in complaints}:
        managers[store_id] = await _store_manager(group_id, store_id, exclude=user["id"])
    told: dict[int, dict[str, list]] = defaultdict(lambda: {"callbacks": [], "complaints": []})
    note = f"原处理人{user['display_name']}已停用，转交门店经理"
    for complaint in complaints:
        to_user = managers[complaint.store]
        await hand_over(actor=actor, complaint=complaint, to_user_id=to_user, note=note)
        if to_user is not None:
            told[to_user]["complaints"].append(complaint.id)
    for row in released:
        if managers[row["store"]] is not None:
            told[managers[row["store"]]]["callbacks"].append(row["id"])
    stamp = int(clock.now().timestamp())
    for manager, work in told.items():
        ids = work["complaints"]
        await notify_users(
            group_id=group_id, user_ids=[manager], kind="staff.disabled",
            title_zh=f"{user['display_name']}已停用，其工作已转交给您",
            title_en=f"{user['display_name']} was disabled; their work was handed to you",
            body_zh=f"转交给您的投诉 {len(ids)} 件；退回回访队列的回访 {len(work['callbacks'])} 个。",
            body_en=f"Complaints handed to you: {len(ids)}; callbacks returned to the queue: {len(work['callbacks'])}.",
            link=f"/complaints/{ids[0]}" if len(ids) == 1 else ("/complaints" if ids else "/callbacks"),
            idempotency_key=f"user:{user['id']}:disabled:{stamp}",
        )
    return {"callbacks_released": len(released), "complaints_reassigned": len(complaints)}


async def _store_manager(group_id: int, store_id: int, *, exclude: int) -> int | None:
    """The store's active customer-relations manager, else its GM (the first by id); None when it has neither."""
    for role in HANDOVER_ROLES:
        row = await Scope.system(group_id, store_id).select(User, User.id).where(
            User.store == store_id, User.active.eq(True), User.id != exclude,
            User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == str(role))),
        ).order_by(User.id).first()
        if row is not None:
            return row["id"]
    return None
