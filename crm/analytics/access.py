"""Who may see the group dashboard, and which stores' figures (DOMAIN.md "Group monitoring").

- HQ viewer and group admin: every store of the group; a brand-division manager: the division's stores
  (their scope already holds only those) — the *group view*, one row per store.
- Store GM and customer-relations manager: their own store, with the group's total, average and their
  rank as reference — the *store view*. Other stores' names (and so their rows) stay hidden unless the
  group admin reveals them for the group (`DashboardSetting.store_names_shown`): then the store view lists
  every store of the group by name; the items behind a number stay the own store's only.
- Everyone else (call center, group customer service, legal, store staff): no dashboard.

Route guards and the navigation read `DASHBOARD_READERS`; the services call `view_for` and
`other_stores_named`; pages, API and exports only read the table these decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crm import clock
from crm.analytics.tables import DashboardSetting
from crm.db import transaction
from tenants import audit
from tenants.errors import Forbidden, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

GROUP_VIEW_ROLES = frozenset({Role.GROUP_ADMIN, Role.HQ_VIEWER, Role.BRAND_MANAGER})
STORE_VIEW_ROLES = frozenset({Role.STORE_GM, Role.STORE_CR_MANAGER})
DASHBOARD_READERS = GROUP_VIEW_ROLES | STORE_VIEW_ROLES
SETTING_EDITORS = frozenset({Role.GROUP_ADMIN})


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


class StoreNames(StrEnum):
    """What the store view shows of the group's other stores."""

    HIDDEN = "hidden"  # the own store only, against the group's total, average and rank (the default)
    SHOWN = "shown"  # every store of the group, by name


@dataclass
class DashboardSettings:
    store_names: StoreNames


async def other_stores_named(actor: Scope) -> bool:
    """Whether the caller's dashboard lists other stores by name: always in the group view (the stores of
    its scope), in the store view only when the group admin revealed them."""
    if view_for(actor) == View.GROUP:
        return True
    return (await group_settings(actor.group_id)).store_names == StoreNames.SHOWN


async def group_settings(group_id: int | None) -> DashboardSettings:
    """The group's dashboard settings, or the defaults when its admin never set them."""
    row = await Scope.system(group_id).select(DashboardSetting, DashboardSetting.store_names_shown).first()
    shown = row is not None and row["store_names_shown"]
    return DashboardSettings(store_names=StoreNames.SHOWN if shown else StoreNames.HIDDEN)


async def get_settings(*, actor: Scope) -> DashboardSettings:
    actor.require_role(*SETTING_EDITORS)
    return await group_settings(actor.group_id)


async def set_settings(*, actor: Scope, store_names: str) -> DashboardSettings:
    """Change the group's dashboard settings (集团管理员 only)."""
    actor.require_role(*SETTING_EDITORS)
    if actor.group_id is None:
        raise Forbidden()
    if store_names not in {s.value for s in StoreNames}:
        raise InvalidInput.one("store_names", "请选择是否向门店显示其他门店名称",
                               "Choose whether store roles see other stores' names (hidden or shown)")
    row = DashboardSetting(group=actor.group_id, store_names_shown=store_names == StoreNames.SHOWN,
                           updated_at=clock.now(), updated_by=actor.user_id or None)
    async with transaction():
        before = await group_settings(actor.group_id)
        await DashboardSetting.insert(row).on_conflict(
            target=DashboardSetting.group, action="DO UPDATE",
            values=[DashboardSetting.store_names_shown, DashboardSetting.updated_at, DashboardSetting.updated_by])
        await audit.record(actor, "dashboard.settings", "dashboard_setting", actor.group_id,
                           before={"store_names": str(before.store_names)}, after={"store_names": store_names})
    return DashboardSettings(store_names=StoreNames(store_names))
