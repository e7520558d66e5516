"""The /dashboard page, the drill-down page and the exports (XLSX formatted, CSV with a header line)."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import unquote

import time_machine
from openpyxl import load_workbook

import re

import httpx

from tests.support.builders import at, complaint_row, customer_with_car
from tests.support.dashboards import settle
from tests.support.builders import PASSWORD

NOW = at(date(2026, 12, 2), 10)


async def signed_in(app, tenant, who: str) -> httpx.AsyncClient:
    """A browser-like client with a session cookie (pages use sessions, not bearer tokens)."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    page = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post("/login", data={"group_code": tenant.code, "username": tenant.usernames[who], "password": PASSWORD, "next": "/",
                                          "_csrf_token": token})
    assert r.status_code == 303, r.text
    return client


async def test_hq_page_export_and_drill_down(app, tenant):
    with time_machine.travel(NOW, tick=False):
        await complaint_row(tenant, await customer_with_car(tenant, "A"), tenant.store_a, at(date(2026, 11, 5), 10),
                        accepted_at=at(date(2026, 11, 5), 10, 30), state="accepted")
        await settle()
        client = await signed_in(app, tenant, "hq_viewer")
        page = await client.get("/dashboard", params={"month": "2026-11", "sort": "complaints", "order": "desc"})
        assert page.status_code == 200, page.text
        assert "集团看板" in page.text and "受理及时率" in page.text and "集团合计" in page.text and "<svg" in page.text
        assert f"/dashboard/items?metric=complaints&amp;store={tenant.store_a}" in page.text
        items = await client.get("/dashboard/items", params={"metric": "complaints", "store": tenant.store_a,
                                                             "month": "2026-11"})
        assert items.status_code == 200 and "/complaints/" in items.text
        assert '<th aria-sort="ascending" data-sort="at">' in items.text  # sortable headings, oldest first
        refused = await client.get("/dashboard/items", params={"metric": "complaints", "store": tenant.store_a,
                                                               "month": "2026-11", "sort": "nonsense"})
        assert refused.status_code == 400

        xlsx = await client.get("/dashboard/export", params={"format": "xlsx", "month": "2026-11",
                                                             "division": tenant.division_ids[0]})
        assert xlsx.status_code == 200
        name = unquote(xlsx.headers["content-disposition"].split("UTF-8''")[1])
        assert name == "门店对比_2026-11_事业部上汽大众.xlsx"
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.freeze_panes == "B3" and sheet["A1"].value.startswith("集团门店对比|统计周期 2026-11")
        assert sheet["A2"].value == "门店" and sheet["D2"].value == "投诉数" and sheet.max_row == 2 + 2 + 2
        assert sheet["G3"].number_format == "0.0%"  # 受理及时率

        csv = await client.get("/dashboard/export", params={"format": "csv", "month": "2026-11"})
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("集团门店对比") and lines[1].startswith("门店,品牌事业部,区域,投诉数")


async def test_store_gm_page_shows_own_store_against_the_group(app, tenant):
    with time_machine.travel(NOW, tick=False):
        client = await signed_in(app, tenant, "store_gm@A")
        page = await client.get("/dashboard")
        assert page.status_code == 200 and "门店看板" in page.text and "其他门店名称不显示" in page.text
        refused = await (await signed_in(app, tenant, "call_center_agent")).get("/dashboard")
        assert refused.status_code == 403
