"""The group admin's dashboard setting: whether store GMs and customer-relations managers see the other
stores of the group by name (hidden by default), per group, on the pages, the API and the exports."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from crm.analytics.access import StoreNames, group_settings
from tenants.tables import AuditEntry, Store
from tests.support.builders import at, complaint_row, customer_with_car
from tests.support.dashboards import settle
from tests.support.web import csrf_of

API = "/api/v1/dashboards"
NOW = at(date(2026, 12, 2), 10)
MONTH = {"period": "month", "month": "2026-11"}


async def _names(tenant) -> dict[int, str]:
    rows = await Store.select(Store.id, Store.name).where(Store.group == tenant.group_id)
    return {row["id"]: row["name"] for row in rows}


async def _reveal(client, tenant, value: str = "shown"):
    return await client.put(f"{API}/settings", json={"store_names": value},
                            headers=await tenant.headers("group_admin"))


async def test_store_names_are_hidden_until_the_group_admin_shows_them(client, tenant):
    names = await _names(tenant)
    with time_machine.travel(NOW, tick=False):
        await complaint_row(tenant, await customer_with_car(tenant, "B"), tenant.store_b, at(date(2026, 11, 5), 10))
        await settle()
        admin = await tenant.headers("group_admin")
        assert (await client.get(f"{API}/settings", headers=admin)).json() == {"store_names": "hidden"}
        gm = await tenant.headers("store_gm@A")
        body = (await client.get(f"{API}/stores", params=MONTH, headers=gm)).json()
        assert [r["store_id"] for r in body["rows"]] == [tenant.store_a] and body["others_named"] is False

        r = await _reveal(client, tenant)
        assert r.status_code == 200 and r.json() == {"store_names": "shown"}
        for who in ("store_gm@A", "store_cr_manager@A"):
            r = await client.get(f"{API}/stores", params=MONTH, headers=await tenant.headers(who))
            body = r.json()
            assert [row["store_id"] for row in body["rows"]] == tenant.store_ids and body["others_named"] is True
            assert {row["store_id"]: row["store_name"] for row in body["rows"]} == names
            assert {row["store_id"] for row in body["rows"] if row["own"]} == {tenant.store_a}
            b = next(row for row in body["rows"] if row["store_id"] == tenant.store_b)
            assert b["values"]["complaints"] == 1 and b["ranks"]["complaints"] == 3  # fewest first
        # The exports read the same table; the items behind another store's number stay closed.
        csv = (await client.get(f"{API}/stores/export", params={**MONTH, "format": "csv"}, headers=gm)).content
        assert names[tenant.store_b] in csv.decode("utf-8-sig")
        r = await client.get(f"{API}/items", params={**MONTH, "metric": "complaints", "store_id": tenant.store_b},
                             headers=gm)
        assert r.status_code == 404
        # HQ and the brand division see what they saw before.
        body = (await client.get(f"{API}/stores", params=MONTH,
                                 headers=await tenant.headers("brand_manager@div2"))).json()
        assert [row["store_id"] for row in body["rows"]] == [tenant.store_c]

        assert (await _reveal(client, tenant, "hidden")).status_code == 200
        entries = await AuditEntry.select(AuditEntry.action, AuditEntry.actor, AuditEntry.after).where(
            AuditEntry.group == tenant.group_id).order_by(AuditEntry.id)  # the test reads its own group's log
        assert [(e["action"], e["actor"]) for e in entries] == [("dashboard.settings", tenant.users["group_admin"])] * 2
        body = (await client.get(f"{API}/stores", params=MONTH, headers=gm)).json()
        assert [row["store_id"] for row in body["rows"]] == [tenant.store_a]
        csv = (await client.get(f"{API}/stores/export", params={**MONTH, "format": "csv"}, headers=gm)).content
        assert names[tenant.store_b] not in csv.decode("utf-8-sig")


@pytest.mark.parametrize("who", ["hq_viewer", "brand_manager@div2", "store_gm@A", "store_cr_manager@A"])
async def test_only_the_group_admin_reads_and_changes_the_setting(client, tenant, who):
    headers = await tenant.headers(who)
    assert (await client.get(f"{API}/settings", headers=headers)).status_code == 403
    r = await client.put(f"{API}/settings", json={"store_names": "shown"}, headers=headers)
    assert r.status_code == 403
    assert (await group_settings(tenant.group_id)).store_names == StoreNames.HIDDEN


@pytest.mark.parametrize("body", [{"store_names": "everyone"}, {"store_names": ""}])
async def test_a_bad_choice_is_a_400_in_chinese_and_english_and_changes_nothing(client, tenant, body):
    r = await client.put(f"{API}/settings", json=body, headers=await tenant.headers("group_admin"))
    assert r.status_code == 400, r.text
    problems = {p["field"]: p for p in r.json()["errors"]}
    assert problems["store_names"]["message_zh"] and problems["store_names"]["message_en"]
    assert (await group_settings(tenant.group_id)).store_names == StoreNames.HIDDEN


async def test_the_setting_belongs_to_one_group(client, tenant, other_tenant):
    """Another group's admin showing names shows nothing of this group, and changes nothing here."""
    names = await _names(tenant)
    with time_machine.travel(NOW, tick=False):
        assert (await _reveal(client, other_tenant)).status_code == 200
        assert (await group_settings(tenant.group_id)).store_names == StoreNames.HIDDEN
        r = await client.get(f"{API}/stores", params=MONTH, headers=await tenant.headers("store_gm@A"))
        assert [row["store_id"] for row in r.json()["rows"]] == [tenant.store_a]
        r = await client.get(f"{API}/stores", params=MONTH, headers=await other_tenant.headers("store_gm@A"))
        assert [row["store_id"] for row in r.json()["rows"]] == other_tenant.store_ids
        assert not set(names.values()) & {row["store_name"] for row in r.json()["rows"]}
        admin = await tenant.headers("group_admin")
        assert (await client.get(f"{API}/settings", headers=admin)).json() == {"store_names": "hidden"}


async def test_the_settings_page_saves_validates_and_the_store_page_follows(browser_session, tenant):
    names = await _names(tenant)
    admin = await browser_session(tenant.usernames["group_admin"])
    page = await admin.get("/dashboard")
    assert 'href="/dashboard/settings"' in page.text
    assert 'href="/dashboard/settings"' in (await admin.get("/settings")).text  # in the settings menu too
    form = await admin.get("/dashboard/settings")
    assert form.status_code == 200 and 'value="hidden" id="store-names-hidden" checked' in form.text

    r = await admin.post("/dashboard/settings", data={"store_names": "all", "_csrf_token": csrf_of(form.text)})
    assert r.status_code == 400 and 'id="store-names-error"' in r.text and "请选择是否向门店显示其他门店名称" in r.text
    assert (await group_settings(tenant.group_id)).store_names == StoreNames.HIDDEN
    r = await admin.post("/dashboard/settings", data={"_csrf_token": csrf_of(form.text)})
    assert r.status_code == 400 and 'id="store-names-error"' in r.text

    r = await admin.post("/dashboard/settings", data={"store_names": "shown", "_csrf_token": csrf_of(form.text)})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/settings?saved=1"
    assert (await group_settings(tenant.group_id)).store_names == StoreNames.SHOWN

    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get("/dashboard")
    assert all(name in page.text for name in names.values())
    assert 'href="/dashboard/settings"' not in page.text
    assert f"store={tenant.store_b}" not in page.text  # no drill-down into another store
    assert (await gm.get("/dashboard/settings")).status_code == 403
    assert 'href="/dashboard/settings"' not in (await gm.get("/settings")).text
