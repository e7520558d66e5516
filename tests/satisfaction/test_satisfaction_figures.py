"""The satisfaction figures as dashboard metrics, read alike by the dashboard (page, JSON, XLSX/CSV), the
store page's trends and the monthly reports: manufacturer SSI/CSI/CS with the averages, rank and standing,
电访落实率, mystery-shopper rate and pay multiplier."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from crm.analytics import dashboard
from crm.analytics.charts import lines_svg
from crm.analytics.periods import parse_period
from crm.reports.figures import group_comparison_month, month_period, store_cr_center_month
from crm.satisfaction.trends import store_trends
from tenants.tables import Store
from tests.support.imports import imported, xlsx

HEADER = ["门店编码", "调查方式", "期间", "指标", "得分", "区域平均", "全国平均", "全国排名", "参评店数", "电访落实率"]
CHECKLIST = [("展厅接待", "30秒内主动迎接"), ("展厅接待", "递送名片"), ("需求分析", "询问用车需求"), ("试乘试驾", "主动邀约试驾")]


async def code(store_id: int) -> str:
    return (await Store.select(Store.code).where(Store.id == store_id).first())["code"]


@pytest.fixture
async def scored(client, tenant):
    """Store A: Oct and Nov scores, CS above both averages, an audit of 3 of 4 (75 % → ×0.7); store B: Nov,
    CS equal to the regional average (not below it), an audit of 4 of 4; store C: nothing."""
    a, b = await code(tenant.store_a), await code(tenant.store_b)
    rows = [HEADER,
            [a, "电访", "2026-10", "SSI", 89, 86, 87, 30, 300, 90], [a, "电访", "2026-10", "CSI", 88, 91, 89, 70, 300, None],
            [a, "电访", "2026-11", "SSI", 91, 86, 87, 18, 300, 98], [a, "电访", "2026-11", "CSI", 89, 91, 89, 60, 300, None],
            [b, "电访", "2026-11", "SSI", 85, 86, 87, 100, 300, None], [b, "电访", "2026-11", "CSI", 92, 91, 89, 10, 300, None],
            [a, "面访", "2026-Q4", "SSI", 80, 82, 83, 90, 300, None]]
    admin = await tenant.headers("group_admin")
    job = await imported(client, admin, "/api/v1/manufacturer-scores/import", "scores.xlsx", xlsx(rows))
    assert job["imported"] is True and job["rows_accepted"] == 7, job
    checklist = await client.put("/api/v1/mystery-shopper/checkpoints", headers=admin, json={
        "brand_division_id": tenant.division_ids[0], "checkpoints": [{"section": s, "item": i} for s, i in CHECKLIST]})
    checkpoints = checklist.json()["items"]
    for store_id, kept in ((tenant.store_a, 3), (tenant.store_b, 4)):
        audit = await client.post("/api/v1/mystery-shopper/audits", headers=admin, json={
            "store_id": store_id, "audited_on": "2026-11-20", "auditor": "王五",
            "results": [{"checkpoint_id": c["id"], "scored": n < kept} for n, c in enumerate(checkpoints)]})
        assert audit.status_code in (200, 201), audit.text
    return tenant


async def test_the_dashboard_reads_the_scores_and_audits_of_the_period(scored):
    tenant = scored
    november = parse_period("month", today=date(2026, 12, 2), month="2026-11")
    table = await dashboard.store_table(actor=await tenant.scope("hq_viewer"), period=november)
    rows = {row.store_id: row.values for row in table.rows}
    a, b, c = rows[tenant.store_a], rows[tenant.store_b], rows[tenant.store_c]
    assert (a["mfr_ssi"], a["mfr_ssi_regional"], a["mfr_ssi_national"], a["mfr_ssi_rank"]) == (91, 86, 87, 18)
    assert (a["mfr_csi"], a["mfr_cs"], a["mfr_cs_above_both"], a["phone_survey_completion"]) == (89, 180, 1.0, 0.98)
    assert (a["mystery_rate"], a["mystery_multiplier"]) == (0.75, 0.7)  # 75 % exactly is ×0.7
    assert (b["mfr_cs"], b["mfr_cs_above_both"]) == (177, 1.0)  # equal to the regional CS average: not below
    assert (b["mystery_rate"], b["mystery_multiplier"]) == (1.0, 1.0)
    assert all(c[key] is None for key in ("mfr_ssi", "mfr_cs", "mfr_cs_above_both", "mystery_rate", "mystery_multiplier"))
    assert table.average["mfr_ssi"] == 88 and table.total["mfr_ssi"] == 88
    assert table.total["mystery_rate"] == 7 / 8 and table.total["mystery_multiplier"] == 1.0  # 87.5 % pooled
    assert table.rows[0].ranks["mfr_ssi_rank"] is not None
    quarter = parse_period("quarter", today=date(2026, 12, 2), quarter="2026-Q4")
    q4 = await dashboard.store_table(actor=await tenant.scope("hq_viewer"), period=quarter)
    assert next(r for r in q4.rows if r.store_id == tenant.store_a).values["mfr_ssi"] == 90  # mean of Oct and Nov
    trend = await dashboard.trend(actor=await tenant.scope("hq_viewer"), metric="mfr_ssi", scope="store",
                                  scope_id=tenant.store_a, by="month", start=date(2026, 9, 1), end=date(2026, 12, 1))
    assert [p.value for p in trend.points] == [None, 89, 91]


async def test_the_exports_and_the_page_carry_the_columns(scored, client, browser_session):
    tenant = scored
    headers = await tenant.headers("hq_viewer")
    params = {"period": "month", "month": "2026-11"}
    body = (await client.get("/api/v1/dashboards/stores", params=params, headers=headers)).json()
    assert {"mfr_ssi", "mfr_cs_above_both", "mystery_multiplier"} <= {c["key"] for c in body["columns"]}
    book = await client.get("/api/v1/dashboards/stores/export", params={**params, "format": "xlsx"}, headers=headers)
    sheet = load_workbook(io.BytesIO(book.content)).active
    titles = [cell.value for cell in sheet[2]]
    assert "厂家SSI" in titles and "神秘客户绩效系数" in titles
    csv = (await client.get("/api/v1/dashboards/stores/export", params={**params, "format": "csv"},
                            headers=headers)).content.decode("utf-8-sig")
    assert "×0.70" in csv and "91.00" in csv and "75.0%" in csv
    web = await browser_session(tenant.usernames["hq_viewer"])
    page = await web.get("/dashboard", params=params)
    assert page.status_code == 200 and 'data-column="mfr_cs"' in page.text
    assert f'href="/satisfaction/stores/{tenant.store_a}"' in page.text  # the scores behind the figure
    items = await client.get("/api/v1/dashboards/items", headers=headers,
                             params={**params, "metric": "mfr_ssi", "store": tenant.store_a})
    assert items.status_code == 400


async def test_the_store_page_shows_trends_as_charts_with_a_table(scored, browser_session):
    tenant = scored
    trend = await store_trends(actor=await tenant.scope("hq_viewer"), store_id=tenant.store_a, survey="phone")
    assert len(trend["rows"]) == 12 and trend["rows"][-1]["period"] == "2026-11"  # up to the latest imported
    october, november = trend["rows"][-2:]
    assert (october["mfr_ssi"], october["mfr_csi_regional"], october["mystery_rate"]) == (89, 91, None)
    assert (november["mfr_cs"], november["mystery_rate"]) == (180, 0.75)
    visits = await store_trends(actor=await tenant.scope("hq_viewer"), store_id=tenant.store_a, survey="visit")
    assert visits["rows"][-1]["period"] == "2026-Q4" and visits["rows"][-1]["mfr_ssi"] == 80
    web = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await web.get(f"/satisfaction/stores/{tenant.store_a}")
    assert page.status_code == 200 and page.text.count('class="trend-chart"') == 3
    assert '<tr data-period="2026-10">' in page.text and '<td class="num" data-metric="mfr_ssi">89.00</td>' in page.text
    assert "<script" not in page.text.split('id="store-trends"')[1].split("</section>")[0]


def test_a_chart_of_several_lines_has_a_legend_and_gaps():
    svg = lines_svg("SSI", ["2026-09", "2026-10", "2026-11"],
                    [("本店", [None, 89.0, 91.0]), ("区域平均", [86.0, 86.5, 86.0])], "index")
    assert svg.count("<polyline") == 2 and "本店" in svg and "区域平均" in svg and "2026-11: 91.00" in svg


async def test_the_monthly_reports_show_the_same_figures(scored):
    tenant = scored
    november = month_period("2026-11")
    group = await group_comparison_month(await tenant.scope("hq_viewer"), None, november)
    scores = next(t for t in group["tables"] if t["title"].startswith("厂家满意度"))
    row = next(r for r in scores["rows"] if r[0].startswith("测试4S店A"))
    assert "91.00" in row and "×0.70" in row and "100.0%" in row
    store = await store_cr_center_month(await tenant.scope("store_gm@A"), tenant.store_a, november)
    table = next(t for t in store["tables"] if t["title"].startswith("厂家满意度"))
    assert ["神秘客户得分率", "75.0%"] in table["rows"]
