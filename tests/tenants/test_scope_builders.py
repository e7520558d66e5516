"""The scope's query builders: the tenant filter is part of the query from its first line."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from crm.calendar.tables import CalendarOverride
from tenants.scope import Scope, timezone_of
from tenants.tables import DealerGroup, Store, User


async def _users(query) -> set[int]:
    return {row["id"] for row in await query}


async def test_a_store_owned_table_is_restricted_to_the_scope_s_group_and_stores(tenant, other_tenant):
    everyone = [*tenant.users.values(), *other_tenant.users.values()]
    store_a = {tenant.users[k] for k in tenant.users if k.endswith("@A")}
    group_level = {
        r["id"] for r in await User.select(User.id).where(User.group == tenant.group_id, User.store.is_null())
    }
    gm_a = await tenant.scope("store_gm@A")

    assert await _users(gm_a.select(User, User.id).where(User.id.is_in(everyone))) == store_a
    assert await _users(gm_a.select(User, User.id, group_rows=True).where(User.id.is_in(everyone))) == (
        store_a | group_level
    )
    assert await _users(gm_a.group_wide().select(User, User.id).where(User.id.is_in(everyone))) == set(
        tenant.users.values()
    )
    assert await gm_a.count(User).where(User.id.is_in(everyone)) == len(store_a)
    assert not await gm_a.exists(User).where(User.id == tenant.users["store_gm@B"])


async def test_a_system_scope_is_made_from_a_row_s_own_group_and_store(tenant, other_tenant):
    everyone = [*tenant.users.values(), *other_tenant.users.values()]
    store_b = {tenant.users[k] for k in tenant.users if k.endswith("@B")}
    job = Scope.system(tenant.group_id, tenant.store_b)
    assert await _users(job.select(User, User.id).where(User.id.is_in(everyone))) == store_b
    row = {"group": tenant.group_id, "store": tenant.store_b}
    assert await _users(Scope.of(row).select(User, User.id).where(User.id.is_in(everyone))) == store_b
    whole_group = Scope.system(tenant.group_id)
    assert await _users(whole_group.select(User, User.id).where(User.id.is_in(everyone))) == set(
        tenant.users.values()
    )


async def test_a_group_owned_table_is_restricted_to_the_group(tenant, other_tenant):
    for group_id in (tenant.group_id, other_tenant.group_id):
        await CalendarOverride.insert(CalendarOverride(group=group_id, day=date(2027, 5, 6), kind="holiday", name="x"))
    admin = await tenant.scope("group_admin")
    rows = await admin.select(CalendarOverride, CalendarOverride.group)
    assert [r["group"] for r in rows] == [tenant.group_id]
    await admin.update(CalendarOverride, {CalendarOverride.name: "调休"})
    await admin.delete(CalendarOverride)
    left = await CalendarOverride.select(CalendarOverride.group, CalendarOverride.name).where(
        CalendarOverride.group.is_in([tenant.group_id, other_tenant.group_id])
    )
    assert left == [{"group": other_tenant.group_id, "name": "x"}]


async def test_timezone_of_a_store_is_its_own_else_its_group_s(tenant):
    await DealerGroup.update({DealerGroup.timezone: "Asia/Urumqi"}).where(DealerGroup.id == tenant.group_id)
    await Store.update({Store.timezone: "Asia/Hong_Kong"}).where(Store.id == tenant.store_a)
    assert await timezone_of(store=tenant.store_a) == ZoneInfo("Asia/Hong_Kong")
    assert await timezone_of(store=tenant.store_b) == ZoneInfo("Asia/Urumqi")
    assert await timezone_of(group=tenant.group_id) == ZoneInfo("Asia/Urumqi")
    assert await timezone_of(group=None) == ZoneInfo("Asia/Shanghai")
