"""Who may see the group dashboard, and which stores' figures (DOMAIN.md "Group monitoring").

- HQ viewer and group admin: every store of the group; a brand-division manager: the division's stores
  (their scope already holds only those) — the *group view*, one row per store.
- Store GM and customer-relations manager: their own store, with the group's total, average and their
  rank as reference; other stores' names are never shown — the *store view*.
- Everyone else (call center, group customer service, legal, store staff): no dashboard.

Route guards and the navigation read `DASHBOARD_READERS`; the services call `view_for`.
"""

from __future__ import annotations

from enum import StrEnum

from tenants.errors import Forbidden
from tenants.roles import Role
from tenants.scope import Scope

GROUP_VIEW_ROLES = frozenset({Role.GROUP_ADMIN, Role.HQ_VIEWER, Role.BRAND_MANAGER})
STORE_VIEW_ROLES = frozenset({Role.STORE_GM, Role.STORE_CR_MANAGER})
DASHBOARD_READERS = GROUP_VIEW_ROLES | STORE_VIEW_ROLES


class View(StrEnum):
    GROUP = "group"
    STORE = "store"


def view_for(actor: Scope) -> View:
    """The caller's dashboard view, or Forbidden for roles without one."""
    if actor.group_id is None:
        raise Forbidden("仅集团及门店管理人员可查看看板", "Only group and store managers see the dashboard")
    if actor.has_role(*GROUP_VIEW_ROLES):
        return View.GROUP
    if actor.has_role(*STORE_VIEW_ROLES) and actor.home_store_id is not None:
        return View.STORE
    raise Forbidden("仅集团及门店管理人员可查看看板", "Only group and store managers see the dashboard")
