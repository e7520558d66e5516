"""Callback statistics of every visible store and their total in one call (GET /api/v1/callbacks/statistics/stores),
scoped to the viewer; the 回访统计 page opens on this month, on all stores for HQ, with "—" for nothing to count."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import time_machine

from crm.callbacks import service
from tests.support.callbacks import callbacks_of, delivered_customer, fire_callback_timers

API = "/api/v1/callbacks/statistics/stores"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.combine(date(2026, 6, 8), time(10), tzinfo=SHANGHAI)


async def _called_and_pending(tenant) -> None:
    """Store A: one 2-hour care call made (satisfied); store B: one due and not made. Both stores also have
    calls planned for later in the month."""
    with time_machine.travel(MONDAY, tick=False):
        _, _, sale_a = await delivered_customer(tenant, tenant.store_a, delivered_at=MONDAY)
        _, _, sale_b = await delivered_customer(tenant, tenant.store_b, delivered_at=MONDAY)
        care_a = (await callbacks_of("sale", sale_a))["delivery_care_2h"]["id"]
        care_b = (await callbacks_of("sale", sale_b))["delivery_care_2h"]["id"]
        await fire_callback_timers(care_a, care_b)
    with time_machine.travel(MONDAY.replace(hour=14), tick=False):
        await service.record_outcome(actor=await tenant.scope("callback_agent@A"), callback_id=care_a,
                                     outcome="reached", satisfied=True)


async def test_every_visible_store_and_the_total_in_one_answer(client, tenant):
    await _called_and_pending(tenant)
    with time_machine.travel(MONDAY.replace(hour=15), tick=False):
        r = await client.get(API, params={"period": "month"}, headers=await tenant.headers("hq_viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["start"] == "2026-06-01" and body["end"] == "2026-07-01"
    stores = {s["store_id"]: s for s in body["stores"]}
    assert set(stores) == set(tenant.store_ids)
    a, b, c = (stores[s]["sales"] for s in tenant.store_ids)
    assert (a["planned"], a["called"], a["callback_rate"], a["satisfaction_rate"]) == (1, 1, 1.0, 1.0)
    assert (b["planned"], b["called"], b["callback_rate"]) == (1, 0, 0.0)
    assert "sales.callback_rate" in stores[tenant.store_b]["below_target"]
    assert (c["planned"], c["callback_rate"]) == (0, None)  # nothing to count: no rate, not 0 %
    assert a["not_yet_due"] > 0 and b["not_yet_due"] == a["not_yet_due"]  # the later calls are not missed ones
    total = body["total"]["sales"]
    assert body["total"]["store_id"] is None
    assert (total["planned"], total["called"], total["callback_rate"]) == (2, 1, 0.5)


async def test_the_answer_is_scoped_to_the_viewer(client, tenant, other_tenant):
    await _called_and_pending(tenant)
    with time_machine.travel(MONDAY.replace(hour=15), tick=False):
        gm = (await client.get(API, params={"date": "2026-06-08"}, headers=await tenant.headers("store_gm@B"))).json()
        brand = (await client.get(API, params={"date": "2026-06-08"},
                                  headers=await tenant.headers("brand_manager@div2"))).json()
        outsider = (await client.get(API, params={"date": "2026-06-08"},
                                     headers=await other_tenant.headers("group_admin"))).json()
        staff = await client.get(API, headers=await tenant.headers("staff@A"))
    assert [s["store_id"] for s in gm["stores"]] == [tenant.store_b]
    assert gm["total"]["sales"]["planned"] == 1 and gm["total"]["sales"]["called"] == 0
    assert [s["store_id"] for s in brand["stores"]] == [tenant.store_ids[2]]
    assert set(tenant.store_ids).isdisjoint(s["store_id"] for s in outsider["stores"])
    assert outsider["total"]["sales"]["planned"] == 0
    assert staff.status_code == 403


async def test_bad_period_or_date_names_the_parameter(client, tenant):
    headers = await tenant.headers("group_admin")
    r = await client.get(API, params={"period": "year"}, headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "period"
    r = await client.get(API, params={"date": "2026-13-01"}, headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "date"


async def test_the_page_opens_on_all_stores_this_month_for_hq(browser_session, tenant):
    await _called_and_pending(tenant)
    hq = await browser_session(tenant.usernames["hq_viewer"])
    with time_machine.travel(MONDAY.replace(hour=15), tick=False):
        page = await hq.get("/callback-stats")
        assert page.status_code == 200
        assert 'id="stats-stores"' in page.text and 'id="stats-total"' in page.text
        assert "2026-06-01 – 2026-07-01" in page.text
        assert f'id="stats-store-{tenant.store_a}"' in page.text
        store_c = page.text.split(f'id="stats-store-{tenant.store_ids[2]}"')[1].split("</tr>")[0]
        assert "—" in store_c and "0.0%" not in store_c and "cb-below" not in store_c
        one = await hq.get(f"/callback-stats?store={tenant.store_a}")
        assert one.status_code == 200 and 'id="stats-table"' in one.text
    gm = await browser_session(tenant.usernames["store_gm@A"])
    with time_machine.travel(MONDAY.replace(hour=15), tick=False):
        own = await gm.get("/callback-stats")
    assert 'id="stats-table"' in own.text and 'id="stats-stores"' not in own.text
    assert "2026-06-01 – 2026-07-01" in own.text
