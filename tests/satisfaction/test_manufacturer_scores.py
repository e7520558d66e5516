"""Manufacturer SSI/CSI scores: import (CSV and XLSX, Chinese or English headers, per-row errors, all or
nothing, re-import replaces) and a store's standing on constructed averages, equality included."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from crm.satisfaction.standing import position, rank_band
from tenants.tables import Store
from tests.support.imports import finished, started, xlsx

API = "/api/v1/manufacturer-scores"
HEADER_ZH = ["门店编码", "调查方式", "期间", "指标", "得分", "区域平均", "全国平均", "全国排名", "参评店数", "电访落实率"]


@pytest.mark.parametrize(("score", "regional", "national", "expected"), [
    ("90", "85", "88", "above_both"),
    ("88", "85", "88", "above_both"),  # equal to the national average: not below it
    ("85", "85", "85", "above_both"),  # equal to both
    ("86", "85", "88", "below_one"),
    ("84.99", "85", "84", "below_one"),
    ("80", "85", "88", "below_both"),
])
def test_position_against_the_averages_counts_equality_as_not_below(score, regional, national, expected):
    assert position(Decimal(score), Decimal(regional), Decimal(national)) == expected


@pytest.mark.parametrize(("rank", "band"), [(1, "top20"), (20, "top20"), (21, "top30"), (30, "top30"),
                                             (31, "top50"), (50, "top50"), (51, "below50"), (None, None)])
def test_rank_bands(rank, band):
    assert rank_band(rank) == band


async def code(store_id: int) -> str:
    return (await Store.select(Store.code).where(Store.id == store_id).first())["code"]


async def upload(client, tenant, content, name="scores.xlsx", accept=False, who="group_admin"):
    return await started(client, await tenant.headers(who), f"{API}/import", name, content, accept_valid_rows=accept)


async def imported(client, tenant, content, name="scores.xlsx", accept=False, who="group_admin") -> dict:
    """The import's job run to its end: its report."""
    job = await finished(client, await tenant.headers(who), await upload(client, tenant, content, name, accept, who))
    assert job["status"] == "done", job
    return job["report"]


async def test_import_checks_every_row_and_replaces_on_reimport(client, tenant):
    a, b = await code(tenant.store_a), await code(tenant.store_b)
    rows = [
        HEADER_ZH,
        [a, "电访", "2026-10", "SSI", 88.5, 86, 87, 25, 300, "96%"],
        [a, "电访", "2026-10", "CSI", 90, 91, 89, 40, 300, ""],
        [a, "电访", "2026年11月", "SSI", 91, 86, 87, 18, 300, 98],
        [a, "电访", "2026-11", "CSI", 89, 91, 89, 60, 300, None],
        [b, "面访", "2026Q5", "SSI", 80, 85, 86, 1, 300, None],  # no fifth quarter
        [b, "电访", "2026-11", "NPS", "很好", None, None, 400, 300, None],
    ]
    refused = await imported(client, tenant, xlsx(rows))
    assert refused["imported"] is False, refused
    assert [(e["row"], e["field"]) for e in refused["errors"]] == [
        (6, "period"), (7, "metric"), (7, "score"), (7, "national_rank")]
    assert (await client.get(API, headers=await tenant.headers("group_admin"))).json()["total"] == 0

    accepted = await imported(client, tenant, xlsx(rows), accept=True)
    assert accepted["imported"] is True, accepted
    assert (accepted["written"], accepted["skipped"]) == (4, 2)
    again = await imported(client, tenant, xlsx(rows), accept=True)
    assert (again["written"], again["replaced"]) == (0, 4)
    listed = (await client.get(API, params={"store_id": tenant.store_a}, headers=await tenant.headers("store_gm@A"))).json()
    assert listed["total"] == 4 and listed["items"][0]["period"] == "2026-11" and listed["sort"] == "-period"
    paged = (await client.get(API, params={"store_id": tenant.store_a, "sort": "score", "page": 2, "page_size": 3},
                              headers=await tenant.headers("store_gm@A"))).json()
    assert (paged["total"], paged["pages"], len(paged["items"])) == (4, 2, 1) and paged["items"][0]["score"] == "91.00"

    standing = (await client.get(f"/api/v1/stores/{tenant.store_a}/standing", params={"survey": "phone"},
                                 headers=await tenant.headers("store_gm@A"))).json()
    assert standing["period"] == "2026-11" and standing["periods"] == ["2026-11", "2026-10"]
    ssi, csi, cs = standing["ssi"], standing["csi"], standing["cs"]
    assert (ssi["position"], ssi["rank_band"], Decimal(ssi["change"])) == ("above_both", "top20", Decimal("2.5"))
    assert (csi["position"], csi["rank_band"]) == ("below_one", "below50")  # 89: under 91, equal to 89
    assert Decimal(cs["score"]) == Decimal(180) and cs["position"] == "above_both"  # 180 vs 177 and 176
    assert Decimal(cs["change"]) == Decimal("1.5")
    assert Decimal(standing["completion_rate"]) == Decimal(98)


async def test_english_csv_and_other_tenants(client, tenant, other_tenant):
    a = await code(tenant.store_a)
    csv = ("store code,survey,period,metric,score,regional average,national average,rank,stores ranked\n"
           f"{a},visit,2026-Q3,ssi,85,85,86,30,200\n").encode()
    assert (await imported(client, tenant, csv, name="scores.csv"))["imported"] is True
    foreign = await imported(client, other_tenant, csv, name="scores.csv")
    assert foreign["imported"] is False and foreign["errors"][0]["field"] == "store"
    assert (await client.get(f"/api/v1/stores/{tenant.store_a}/standing",
                             headers=await other_tenant.headers("group_admin"))).status_code == 404
    assert (await client.get(f"/api/v1/stores/{tenant.store_a}/standing",
                             headers=await tenant.headers("store_gm@B"))).status_code == 404
    assert (await client.get(API, headers=await other_tenant.headers("group_admin"))).json()["items"] == []
    assert (await upload(client, tenant, csv, name="scores.csv", who="store_gm@A")).status_code == 403
    bad = await client.get(f"/api/v1/stores/{tenant.store_a}/standing", params={"period": "2026-13"},
                           headers=await tenant.headers("group_admin"))
    assert bad.status_code == 400


async def test_group_table_sorts_exports_and_store_page_shows_the_standing(client, browser_session, tenant):
    from openpyxl import load_workbook

    a, b = await code(tenant.store_a), await code(tenant.store_b)
    rows = [HEADER_ZH, [a, "电访", "2026-11", "SSI", 91, 86, 87, 18, 300, 98], [a, "电访", "2026-11", "CSI", 89, 91, 89, 60, 300, None],
            [b, "电访", "2026-11", "SSI", 95, 86, 87, 3, 300, None], [b, "电访", "2026-11", "CSI", 92, 91, 89, 10, 300, None]]
    assert (await imported(client, tenant, xlsx(rows)))["imported"] is True
    web = await browser_session(tenant.usernames["hq_viewer"])
    page = await web.get("/satisfaction", params={"sort": "cs", "desc": "true"})
    assert page.status_code == 200 and "满意度总表" in page.text
    assert page.text.index(f'data-store="{tenant.store_b}"') < page.text.index(f'data-store="{tenant.store_a}"')
    export = await web.get("/satisfaction/export.xlsx", params={"sort": "cs"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "门店" and values[0][9] == "CS(SSI+CSI)"
    assert [v[9] for v in values[1:3]] == [180, 187]  # ascending CS; store C without scores comes last
    store = await web.get(f"/satisfaction/stores/{tenant.store_a}")
    assert store.status_code == 200 and "高于区域和全国平均" in store.text and "全国前20名" in store.text
    outsider = await browser_session(tenant.usernames["store_gm@B"])
    assert (await outsider.get(f"/satisfaction/stores/{tenant.store_a}")).status_code == 404
