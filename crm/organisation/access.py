"""Who may change the organisation and its people: one definition, read by the services, the guards and the nav.

A group admin (集团管理员) runs the whole organisation. A store GM (总经理) manages the staff of their own
store only, and grants no role above their own: neither the group's roles nor 总经理.
"""

from __future__ import annotations

from collections.abc import Iterable

from tenants.errors import Forbidden
from tenants.roles import STORE_ROLES, TENANT_ROLES, Role
from tenants.scope import Scope

# Divisions, regions and stores are created, edited, moved and closed by the group admin.
ORGANISATION_ADMINS = frozenset({Role.GROUP_ADMIN})
# A store's card (address, hours, contact window): everyone who works in the group and can see the store.
STORE_READERS = TENANT_ROLES
# People: the group admin (everyone of the group) and the store GM (their store's staff) manage; the
# customer-relations manager reads their store's staff list (whom to hand work to).
PEOPLE_ADMINS = frozenset({Role.GROUP_ADMIN, Role.STORE_GM})
PEOPLE_READERS = PEOPLE_ADMINS | {Role.STORE_CR_MANAGER}


def grantable_roles(actor: Scope) -> frozenset[Role]:
    """The roles the caller may give (or take away)."""
    if actor.has_role(Role.GROUP_ADMIN):
        return TENANT_ROLES
    if actor.has_role(Role.STORE_GM):
        return STORE_ROLES - {Role.STORE_GM}
    return frozenset()


def may_manage(actor: Scope, *, store_id: int | None, roles: Iterable[Role]) -> bool:
    """May the caller manage a user placed at `store_id` (None: group level) who holds `roles`?"""
    if actor.has_role(Role.GROUP_ADMIN):
        return True
    if actor.has_role(Role.STORE_GM):
        return store_id is not None and store_id == actor.home_store_id and set(roles) <= grantable_roles(actor)
    return False


def require_manager(actor: Scope, *, store_id: int | None, roles: Iterable[Role]) -> None:
    if not may_manage(actor, store_id=store_id, roles=roles):
        raise Forbidden("无权管理该员工（总经理只能管理本店员工，且不能授予高于自己的角色）",
                        "You may not manage this user (a GM manages their own store's staff, below GM)")
