"""The scope's query builders: the tenant filter is part of the query from its first line."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from crm.calendar.tables import CalendarOverride
from tenants.scope import Rows, Scope, timezone_of
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


async def test_a_compiled_read_gives_what_the_scope_s_select_gives(tenant, other_tenant):
    """`actor.rows(Rows(...))` (SQL compiled once) and `actor.row`: the same rows, the same filter as
    `actor.select`, nested reads under the same scope; the Piccolo form (SQLite) agrees with it."""
    from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
    from crm.privacy import vault
    from tenants.errors import NotFound
    from tests.support import builders

    here = await builders.customer_with_history(tenant, "A")
    there = await builders.same_car_at(tenant, here, "B")
    await builders.visit(tenant, there, builders.ago(days=3))
    await builders.visit_row(tenant, here, tenant.store_a, builders.ago(days=1), cancelled=True)
    abroad = await builders.customer_with_history(other_tenant, "A")
    ids = [here.customer_id, there.customer_id, abroad.customer_id]
    visits = Rows(ServiceVisit, ServiceVisit.customer, unset=ServiceVisit.cancelled_at, order=ServiceVisit.left_at,
                  descending=True)
    page = Rows(Customer, Customer.id, order=Customer.id, nested={
        "vehicles": (Rows(Vehicle, Vehicle.customer, order=Vehicle.id), Customer.id),
        "sales": (Rows(Sale, Sale.customer), Customer.id),
        "visits": (visits, Customer.id),
        "store_rows": (Rows(Store, Store.id), Customer.store),
    })
    for who, seen in (("store_gm@A", [here]), ("store_gm@B", [there]), ("group_admin", [here, there])):
        actor = await tenant.scope(who)
        rows = await actor.rows(page, ids)
        assert [r["id"] for r in rows] == [c.customer_id for c in seen]
        for row in rows:
            assert {k: v for k, v in row.items() if k not in page.nested} == await actor.row(Customer, row["id"])
            assert row["vehicles"] == await actor.select(Vehicle).where(Vehicle.customer == row["id"])
            assert row["sales"] == await actor.select(Sale).where(Sale.customer == row["id"])
            assert row["visits"] == await actor.select(ServiceVisit).where(
                ServiceVisit.customer == row["id"], ServiceVisit.cancelled_at.is_null()
            ).order_by(ServiceVisit.left_at, ascending=False)
            assert len(row["visits"]) == 1 and row["store_rows"][0]["id"] == row["store"]
        assert await page.piccolo(actor, ids) == rows
        with pytest.raises(NotFound):
            await actor.row(Customer, abroad.customer_id)
    whole_group = await Scope.system(tenant.group_id).rows(Rows.by_id(Customer), ids)
    assert sorted(whole_group, key=lambda r: r["id"]) == vault.open_rows(await Customer.select().where(
        Customer.id.is_in(ids[:2])
    ).order_by(Customer.id))  # the scope's reads open sealed personal data (crm.privacy.vault)
