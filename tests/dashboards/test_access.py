"""Who sees which stores' figures, cross-tenant answers, and field-level 400s in Chinese and English."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from api.web.nav import nav_for
from tenants.tables import Store
from tests.support.builders import at, complaint_row, customer_with_car
from tests.support.dashboards import settle

API = "/api/v1/dashboards"
NOW = at(date(2026, 12, 2), 10)
MONTH = {"period": "month", "month": "2026-11"}


async def _table(client, tenant, who: str, **params):
    return await client.get(f"{API}/stores", params={**MONTH, **params}, headers=await tenant.headers(who))


async def test_hq_and_group_admin_see_every_store_brand_manager_the_division(client, tenant):
    with time_machine.travel(NOW, tick=False):
        for who in ("hq_viewer", "group_admin"):
            body = (await _table(client, tenant, who)).json()
            assert [r["store_id"] for r in body["rows"]] == tenant.store_ids and body["view"] == "group"
        body = (await _table(client, tenant, "brand_manager@div2")).json()
        assert [r["store_id"] for r in body["rows"]] == [tenant.store_c]
        assert [d["id"] for d in body["divisions"]] == [tenant.division_ids[1]]
        # A division filter: only its stores, ranked among them.
        body = (await _table(client, tenant, "hq_viewer", division=tenant.division_ids[0])).json()
        assert [r["store_id"] for r in body["rows"]] == [tenant.store_a, tenant.store_b]
        assert body["compared_stores"] == 2
        # The brand manager asking for another division's stores: it does not exist for them.
        r = await _table(client, tenant, "brand_manager@div2", division=tenant.division_ids[0])
        assert r.status_code == 404


async def test_store_roles_see_their_store_against_the_group_without_other_names(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await complaint_row(tenant, await customer_with_car(tenant, "B"), tenant.store_b, at(date(2026, 11, 5), 10))
        await settle()
        for who in ("store_gm@A", "store_cr_manager@A"):
            r = await _table(client, tenant, who)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["view"] == "store" and [row["store_id"] for row in body["rows"]] == [tenant.store_a]
            assert body["compared_stores"] == 3 and body["total"]["complaints"] == 1
            assert body["divisions"] == [] and body["regions"] == []
            assert "测试4S店B" not in r.text
        # The group trend is their reference; another store's trend or a division's is not theirs.
        gm = await tenant.headers("store_gm@A")
        assert (await client.get(f"{API}/trend", params={"metric": "complaints", "scope": "group"},
                                 headers=gm)).status_code == 200
        assert (await client.get(f"{API}/trend", params={"metric": "complaints", "scope": "store",
                                                         "id": tenant.store_b}, headers=gm)).status_code == 404
        assert (await client.get(f"{API}/trend", params={"metric": "complaints", "scope": "division",
                                                         "id": tenant.division_ids[0]}, headers=gm)).status_code == 403
        assert (await client.get(f"{API}/items", params={**MONTH, "metric": "complaints",
                                                         "store_id": tenant.store_b}, headers=gm)).status_code == 404


@pytest.mark.parametrize("who", ["call_center_agent", "group_customer_service", "legal", "staff@A",
                                 "callback_agent@A", "department_head@A"])
async def test_roles_without_a_dashboard_are_refused(client, tenant, who):
    with time_machine.travel(NOW, tick=False):
        assert (await _table(client, tenant, who)).status_code == 403
        actor = await tenant.scope(who)
        assert "/dashboard" not in [item.path for item in nav_for(actor)]


async def test_the_navigation_offers_the_dashboard_to_the_roles_that_may_read_it(tenant):
    for who in ("hq_viewer", "group_admin", "brand_manager@div2", "store_gm@A", "store_cr_manager@A"):
        assert "/dashboard" in [item.path for item in nav_for(await tenant.scope(who))], who


async def test_another_group_sees_nothing_of_this_one(client, tenant, other_tenant):
    with time_machine.travel(NOW, tick=False):
        await complaint_row(tenant, await customer_with_car(tenant, "A"), tenant.store_a, at(date(2026, 11, 5), 10))
        await settle()
        outsider = await other_tenant.headers("hq_viewer")
        body = (await client.get(f"{API}/stores", params=MONTH, headers=outsider)).json()
        assert {r["store_id"] for r in body["rows"]} == set(other_tenant.store_ids)
        assert body["total"]["complaints"] == 0
        for params in ({"division": tenant.division_ids[0]}, {"region": 999_999}):
            assert (await client.get(f"{API}/stores", params={**MONTH, **params},
                                     headers=outsider)).status_code == 404
        for scope, scope_id in (("store", tenant.store_a), ("division", tenant.division_ids[0])):
            r = await client.get(f"{API}/trend", params={"metric": "complaints", "scope": scope, "id": scope_id},
                                 headers=outsider)
            assert r.status_code == 404, (scope, r.text)
        r = await client.get(f"{API}/items", params={**MONTH, "metric": "complaints", "store_id": tenant.store_a},
                             headers=outsider)
        assert r.status_code == 404
        r = await client.get(f"{API}/stores/export", params={**MONTH, "format": "csv"}, headers=outsider)
        name = (await Store.select(Store.name).where(Store.id == tenant.store_a).first())["name"]
        assert r.status_code == 200 and name not in r.content.decode("utf-8-sig")


@pytest.mark.parametrize("params, field", [
    ({"period": "fortnight"}, "period"),
    ({"period": "month", "month": "2026-13"}, "month"),
    ({"period": "week", "week": "2026-W60"}, "week"),
    ({"period": "quarter", "quarter": "2026-Q5"}, "quarter"),
    ({"period": "year", "year": "1800"}, "year"),
    ({"period": "custom", "from": "2026-11-10"}, "to"),
    ({"period": "custom", "from": "2026-11-10", "to": "2026-11-01"}, "to"),
    ({"period": "custom", "from": "2020-01-01", "to": "2026-11-01"}, "to"),
    ({"period": "custom", "from": "yesterday", "to": "2026-11-01"}, "from"),
    ({"sort": "salary"}, "sort"),
    ({"order": "up"}, "order"),
])
async def test_bad_input_is_a_400_naming_the_field_in_chinese_and_english(client, tenant, params, field):
    with time_machine.travel(NOW, tick=False):
        r = await client.get(f"{API}/stores", params=params, headers=await tenant.headers("hq_viewer"))
    assert r.status_code == 400, r.text
    problems = {p["field"]: p for p in r.json()["errors"]}
    assert field in problems and problems[field]["message_zh"] and problems[field]["message_en"]


async def test_trend_validation(client, tenant):
    hq = await tenant.headers("hq_viewer")
    with time_machine.travel(NOW, tick=False):
        for params, field in (({"metric": "salary"}, "metric"), ({"metric": "complaints", "by": "day"}, "by"),
                              ({"metric": "complaints", "scope": "planet"}, "scope"),
                              ({"metric": "complaints", "scope": "store"}, "id")):
            r = await client.get(f"{API}/trend", params=params, headers=hq)
            assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, r.text
