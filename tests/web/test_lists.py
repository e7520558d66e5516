"""Lists (列表): one mechanism for every list — the rules (`crm.lists`: allowed sort keys, page size bounds,
paging edges, the total) and, on the complaint list, what readers get: the envelope with the total, sorting by
every column, the state in the URL, the export of exactly what is shown, and nothing of another store or group."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook

from crm import lists
from crm.complaints import queries
from crm.complaints.tables import Complaint
from tenants.errors import InvalidInput
from tests.support.builders import complaint, customer_with_car

API = "/api/v1/complaints"


# ---------------------------------------------------------------- the rules


def test_a_list_offers_only_its_sort_keys_and_page_bounds():
    spec = queries.COMPLAINT_LIST
    assert spec.parse() == lists.ListQuery(page=1, page_size=50, sort="priority", descending=False)
    assert spec.parse(sort="-received", page="3", page_size="20").token == "-received"
    assert spec.parse(sort="-received", page="3", page_size="20").offset == 40
    with pytest.raises(InvalidInput) as refused:
        spec.parse(sort="complainant_phone; drop table", page="0", page_size="201")
    problems = {p.field: p for p in refused.value.problems}
    assert set(problems) == {"sort", "page", "page_size"}, "every bad parameter named at once"
    assert "不能按" in problems["sort"].zh and "Cannot sort" in problems["sort"].en
    for page in ("x", "-1", "1.5", "١"):
        with pytest.raises(InvalidInput):
            spec.parse(page=page)


def test_pages_count_up_from_one_and_an_empty_list_is_page_one_of_one():
    want = queries.COMPLAINT_LIST.parse(page_size="10")
    assert want.page_of([], 0).pages == 1
    assert want.page_of([], 10).pages == 1
    assert want.page_of([], 11).pages == 2


# ---------------------------------------------------------------- the complaint list


async def _complaints(tenant, n: int, store: str = "A") -> list[int]:
    ids = []
    for i in range(n):
        car = await customer_with_car(tenant, store, name=f"客户{i:02d}")
        ids.append(await complaint(tenant, car, store=store, content=f"投诉内容{i:02d}"))
    return ids


async def test_the_api_pages_with_the_total_and_sorts_by_every_column(client, tenant, other_tenant):
    mine = await _complaints(tenant, 5)
    await _complaints(tenant, 2, store="B")
    await _complaints(other_tenant, 3)
    headers = await tenant.headers("store_cr_manager@A")

    first = (await client.get(API, headers=headers, params={"page_size": 2, "sort": "id"})).json()
    assert {k: first[k] for k in ("total", "page", "page_size", "pages", "sort")} == {
        "total": 5, "page": 1, "page_size": 2, "pages": 3, "sort": "id"}
    seen = [c["id"] for page in (1, 2, 3) for c in (await client.get(API, headers=headers, params={
        "page_size": 2, "page": page, "sort": "id"})).json()["items"]]
    assert seen == sorted(mine), "pages neither overlap nor skip, and hold only the reader's store"
    past = (await client.get(API, headers=headers, params={"page_size": 2, "page": 9})).json()
    assert past["items"] == [] and past["total"] == 5 and past["page"] == 9

    newest = (await client.get(API, headers=headers, params={"sort": "-customer"})).json()["items"]
    assert [c["complainant_name"] for c in newest] == sorted((c["complainant_name"] for c in newest), reverse=True)
    for key in queries.COMPLAINT_LIST.sorts:
        for token in (key, f"-{key}"):
            answer = await client.get(API, headers=headers, params={"sort": token})
            assert answer.status_code == 200 and answer.json()["total"] == 5, token

    bad = await client.get(API, headers=headers, params={"sort": "complainant_phone"})
    assert bad.status_code == 400
    error = bad.json()["errors"][0]
    assert error["field"] == "sort" and error["message_zh"] and error["message_en"]


async def test_totals_and_rows_never_include_another_store_or_group(client, tenant, other_tenant):
    await _complaints(tenant, 2)
    theirs = await _complaints(tenant, 3, store="B")
    elsewhere = await _complaints(other_tenant, 4)
    for who, total in (("store_cr_manager@A", 2), ("hq_viewer", 5)):
        found = (await client.get(API, headers=await tenant.headers(who), params={"page_size": 200})).json()
        assert found["total"] == total, who
        assert not {c["id"] for c in found["items"]} & set(elsewhere)
        export = await client.get(f"{API}/export", headers=await tenant.headers(who), params={"format": "csv"})
        ids = [int(row[0]) for row in list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))[1:]]
        assert len(ids) == total and not set(ids) & set(elsewhere), who
    store_a = (await client.get(API, headers=await tenant.headers("store_cr_manager@A"))).json()
    assert not {c["id"] for c in store_a["items"]} & set(theirs)
    other = await client.get(API, headers=await other_tenant.headers("hq_viewer"), params={"store_id": tenant.store_a})
    assert other.status_code == 404, "another group's store is not there"
    page = await client.get(f"{API}/export", headers=await other_tenant.headers("hq_viewer"),
                            params={"store_id": tenant.store_a})
    assert page.status_code == 404
    assert await Complaint.count().where(Complaint.group == other_tenant.group_id) == 4


async def test_the_export_is_what_is_shown_masked_as_the_reader_sees_it(client, tenant):
    await _complaints(tenant, 7)
    for who, masked in (("store_cr_manager@A", False), ("store_gm@A", True)):
        headers = await tenant.headers(who)
        shown = []
        for page in (1, 2, 3):
            shown += (await client.get(API, headers=headers, params={
                "sort": "-customer", "page_size": 3, "page": page})).json()["items"]
        answer = await client.get(f"{API}/export", headers=headers, params={"sort": "-customer", "format": "csv"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["编号", "紧急程度", "时限"]
        assert [int(r[0]) for r in rows[1:]] == [c["id"] for c in shown], "same rows, same order, every page"
        assert [r[7] for r in rows[1:]] == [c["complainant_phone"] for c in shown]
        assert all(("*" in r[7]) == masked for r in rows[1:]), who
        book = await client.get(f"{API}/export", headers=headers, params={"sort": "-customer"})
        sheet = load_workbook(io.BytesIO(book.content)).active
        assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [c["id"] for c in shown]


async def test_the_page_keeps_filters_sort_and_page_in_its_links(tenant, browser_session):
    await _complaints(tenant, 4)
    browser = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await browser.get("/complaints", params={"q": "客户", "sort": "-customer", "page_size": "3"})
    assert page.status_code == 200 and "共 4 条 · 第 1/2 页" in page.text
    links = {unescape(m) for m in re.findall(r'href="(/complaints\?[^"]*)"', page.text)}
    assert "/complaints?q=%E5%AE%A2%E6%88%B7&sort=-customer&page=2&page_size=3" in links, "the next page keeps all"
    assert "/complaints?q=%E5%AE%A2%E6%88%B7&sort=customer&page_size=3" in links, "a second click sorts ascending"
    second = await browser.get("/complaints?q=%E5%AE%A2%E6%88%B7&sort=-customer&page=2&page_size=3")
    assert "共 4 条 · 第 2/2 页" in second.text and 'aria-sort="descending" data-sort="customer"' in second.text
    export = next(m for m in re.findall(r'href="(/complaints/export\?[^"]*)"', page.text))
    assert "sort=-customer" in export and "q=" in export and "page=" not in unescape(export)
    for bad in ({"sort": "nope"}, {"page": "0"}, {"page_size": "1000"}):
        assert (await browser.get("/complaints", params=bad)).status_code == 400, bad


async def test_other_lists_count_only_the_readers_rows(client, tenant, other_tenant):
    """The customer search, the major board and the people list: totals through the reader's scope."""
    from crm.customers.tables import Customer
    from crm.major.rules import MajorReason
    from tests.support.builders import major_complaint

    for store in ("A", "B"):
        cid = (await _complaints(tenant, 1, store=store))[0]
        await major_complaint(tenant, cid, MajorReason.NEGATIVE_MEDIA)
    await _complaints(other_tenant, 2)
    ours_a = await Customer.count().where(Customer.store == tenant.store_a, Customer.active.eq(True))
    ours = await Customer.count().where(Customer.group == tenant.group_id, Customer.active.eq(True))
    for who, customers, majors in (("store_gm@A", ours_a, 1), ("hq_viewer", ours, 2)):
        headers = await tenant.headers(who)
        found = (await client.get("/api/v1/customers", headers=headers, params={"page_size": 1})).json()
        assert found["total"] == customers and found["pages"] == customers, who
        board = (await client.get("/api/v1/major", headers=headers)).json()
        assert board["total"] == majors == len(board["items"]), who
    theirs = (await client.get("/api/v1/major", headers=await other_tenant.headers("hq_viewer"))).json()
    assert theirs["total"] == 0 and theirs["items"] == []
    people = (await client.get("/api/v1/users", headers=await other_tenant.headers("group_admin"))).json()
    assert {u["id"] for u in people["items"]}.isdisjoint(tenant.users.values())
