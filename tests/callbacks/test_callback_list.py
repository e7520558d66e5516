"""The list of every callback (全部回访): planned ones too, a page with the total, sortable, filtered by state, kind
and store, exported as shown (mobiles masked as the reader sees them); another store's or group's never there."""

from __future__ import annotations

import csv
import io

from crm.callbacks.tables import Callback
from tests.support.callbacks import delivered_customer

API = "/api/v1/callbacks"


async def _planned(tenant, store_id: int, n: int) -> None:
    for i in range(n):
        await delivered_customer(tenant, store_id, name=f"客户{i}")


async def test_the_list_pages_sorts_and_filters_within_the_readers_stores(client, tenant, other_tenant):
    await _planned(tenant, tenant.store_a, 2)
    await _planned(tenant, tenant.store_b, 1)
    await _planned(other_tenant, other_tenant.store_a, 1)
    mine = await Callback.count().where(Callback.store == tenant.store_a)
    group = await Callback.count().where(Callback.group == tenant.group_id)
    assert mine and group > mine

    agent = await tenant.headers("callback_agent@A")
    first = (await client.get(API, headers=agent, params={"page_size": 2, "sort": "-due"})).json()
    assert (first["total"], first["page_size"], first["pages"], first["sort"]) == (mine, 2, -(-mine // 2), "-due")
    seen = []
    for page in range(1, first["pages"] + 1):
        seen += (await client.get(API, headers=agent, params={"page_size": 2, "page": page, "sort": "-due"})).json()[
            "items"]
    assert len({c["id"] for c in seen}) == mine and {c["store_id"] for c in seen} == {tenant.store_a}
    dues = [c["due_at"] for c in seen]
    assert dues == sorted(dues, reverse=True)

    hq = (await client.get(API, headers=await tenant.headers("hq_viewer"), params={"page_size": 200})).json()
    assert hq["total"] == group and all("*" in c["mobile"] for c in hq["items"]), "HQ reads mobiles masked"
    planned = (await client.get(API, headers=agent, params={"state": "scheduled"})).json()
    assert planned["total"] == await Callback.count().where(Callback.store == tenant.store_a,
                                                            Callback.state == "scheduled")
    theirs = (await client.get(API, headers=await other_tenant.headers("hq_viewer"))).json()
    assert theirs["total"] == await Callback.count().where(Callback.group == other_tenant.group_id)
    assert not {c["id"] for c in theirs["items"]} & {c["id"] for c in hq["items"]}

    assert (await client.get(API, headers=agent, params={"store_id": tenant.store_b})).status_code == 404
    assert (await client.get(API, headers=await other_tenant.headers("hq_viewer"),
                             params={"store_id": tenant.store_a})).status_code == 404
    assert (await client.get(f"{API}/export", headers=await other_tenant.headers("hq_viewer"),
                             params={"store_id": tenant.store_a})).status_code == 404
    bad = await client.get(API, headers=agent, params={"sort": "mobile", "state": "nope"})
    assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"sort"}
    assert (await client.get(API, headers=agent, params={"state": "nope"})).status_code == 400


async def test_the_export_holds_every_page_in_the_order_shown(client, tenant):
    await _planned(tenant, tenant.store_a, 3)
    for who, masked in (("callback_agent@A", False), ("store_gm@A", True)):
        headers = await tenant.headers(who)
        shown = (await client.get(API, headers=headers, params={"sort": "customer", "page_size": 200})).json()["items"]
        answer = await client.get(f"{API}/export", headers=headers, params={"sort": "customer", "format": "csv"})
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert rows[0][:4] == ["编号", "回访类型", "客户", "电话"]
        assert [int(r[0]) for r in rows[1:]] == [c["id"] for c in shown]
        assert [r[3] for r in rows[1:]] == [c["mobile"] for c in shown]
        assert all(("*" in r[3]) == masked for r in rows[1:]), who


async def test_the_page_lists_filters_and_links_from_the_queue(tenant, browser_session):
    await _planned(tenant, tenant.store_a, 2)
    browser = await browser_session(tenant.usernames["callback_agent@A"])
    queue = await browser.get("/callbacks")
    assert 'href="/callbacks/list?store=' in queue.text or 'href="/callbacks/list"' in queue.text
    page = await browser.get("/callbacks/list", params={"state": "scheduled", "sort": "-due"})
    total = await Callback.count().where(Callback.store == tenant.store_a, Callback.state == "scheduled")
    assert page.status_code == 200 and f"共 {total} 条" in page.text
    assert 'href="/callbacks/list/export?state=scheduled&amp;sort=-due&amp;format=xlsx"' in page.text
    export = await browser.get("/callbacks/list/export", params={"state": "scheduled", "format": "csv"})
    assert export.status_code == 200 and len(export.content.decode("utf-8-sig").strip().splitlines()) == total + 1
    assert (await browser.get("/callbacks/list", params={"sort": "phone"})).status_code == 400
