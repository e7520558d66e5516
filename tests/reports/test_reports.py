"""Monthly reports: rendered from generated data, their text (tests/support/pdf_text.py) holds the Chinese
titles and the same figures the dashboard API returns for the month; requests, reuse, access, retries."""

from __future__ import annotations

import asyncio
import io

import pytest
import time_machine
from arq import Retry
from openpyxl import load_workbook

from crm.analytics.metrics import METRICS, display
from crm.reports import render
from tests.support.pdf_text import extract
from tests.support.reports import NOW, build_november, run_render_job, status_of

API = "/api/v1/reports"


async def dashboard_rows(client, tenant) -> dict:
    r = await client.get("/api/v1/dashboards/stores", params={"period": "month", "month": "2026-11"},
                         headers=await tenant.headers("hq_viewer"))
    assert r.status_code == 200, r.text
    return r.json()


async def ask(client, tenant, who: str, **body) -> dict:
    r = await client.post(API, json={"month": "2026-11", **body}, headers=await tenant.headers(who))
    assert r.status_code == 202, r.text
    return r.json()


async def download(client, tenant, who: str, report_id: int, format: str = "pdf"):
    return await client.get(f"{API}/{report_id}/download", params={"format": format},
                            headers=await tenant.headers(who))


async def test_store_complaint_report_shows_the_dashboard_figures(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        body = await dashboard_rows(client, tenant)
        report = await ask(client, tenant, "store_gm@A", kind="complaint_month", store_id=tenant.store_a)
        assert report["status"] == "queued"
        assert (await run_render_job(report["id"]))["rendered"] == 1
        listed = (await client.get(API, headers=await tenant.headers("store_gm@A"))).json()
        pdf = await download(client, tenant, "store_gm@A", report["id"])
        xlsx = await download(client, tenant, "store_gm@A", report["id"], "xlsx")
    assert [(r["id"], r["status"]) for r in listed["items"]] == [(report["id"], "ready")] and listed["total"] == 1
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = extract(pdf.content)
    assert 1 <= text.pages <= 3
    assert "月份客户投诉处理统计月报表" in text.text and "\ufffd" not in text.text
    assert f"第 1 页 / 共 {text.pages} 页" in text.page_texts[0]
    assert "统计期间：2026年11月" in text.text and "生成时间：2026-12-02 10:00" in text.text
    values = {row["store_id"]: row for row in body["rows"]}[tenant.store_a]["values"]
    assert values["complaints"] == 4
    for key in ("complaints", "accept_on_time_rate", "handle_on_time_rate", "major_complaints", "liable",
                "reopen_rate", "complaints_per_100_visits"):
        assert f"{METRICS[key].label_zh}{display(values[key], METRICS[key].unit)}" in text.text, key
    assert "400热线1" in text.text and "网络1" in text.text  # by channel
    assert "新车交付后发现漆面划痕" in text.text  # the month's list
    sheets = load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0].value: row[1].value for row in sheets["投诉处理概况"].iter_rows(min_row=3)}
    assert summary["投诉数"] == "4"
    assert summary["受理及时率"] == display(values["accept_on_time_rate"], "percent")


async def test_group_comparison_ranks_the_stores_for_hq(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        body = await dashboard_rows(client, tenant)
        report = await ask(client, tenant, "hq_viewer", kind="group_comparison")
        await run_render_job(report["id"])
        pdf = await download(client, tenant, "hq_viewer", report["id"])
    assert pdf.status_code == 200, pdf.text
    text = extract(pdf.content)
    assert "集团门店对比月报" in text.text and "\ufffd" not in text.text
    assert 1 <= text.pages <= 4
    for row in body["rows"]:
        assert row["store_name"] in text.text
    assert f"集团合计{body['total']['complaints']}" in text.text
    assert "排名：回访率" in text.text and "本月重大投诉" in text.text
    assert "集团·投诉数" in text.text.replace(" ", "")  # the trend chart (SVG text)
    assert "本月低于目标门店：1 家" in text.text  # store A: one satisfied callback of two


async def test_asking_again_with_unchanged_data_reuses_the_file(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        first = await ask(client, tenant, "store_cr_manager@A", kind="complaint_month", store_id=tenant.store_a)
        await run_render_job(first["id"])
        made = await status_of(first["id"])
        again = await ask(client, tenant, "store_gm@A", kind="complaint_month", store_id=tenant.store_a)
        assert again["id"] == first["id"] and again["status"] == "queued"
        assert (await run_render_job(first["id"]))["reused"] == 1
    kept = await status_of(first["id"])
    assert kept["pdf_hash"] == made["pdf_hash"] and kept["status"] == "ready"
    assert render.file_path(kept["pdf_hash"], "pdf").exists()
    assert not list(render.file_path(kept["pdf_hash"], "pdf").parent.glob(".partial-*"))


async def test_reports_are_store_data(client, tenant, other_tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        store = await ask(client, tenant, "store_gm@A", kind="complaint_month", store_id=tenant.store_a)
        group = await ask(client, tenant, "group_admin", kind="group_comparison")
        await run_render_job(store["id"])
        await run_render_job(group["id"])
        for report_id in (store["id"], group["id"]):
            for who in ("hq_viewer", "group_admin", "store_gm@A"):
                assert (await client.get(f"{API}/{report_id}", headers=await other_tenant.headers(who))
                        ).status_code == 404
                assert (await download(client, other_tenant, who, report_id)).status_code == 404
        # Another store of the same group, and the group report for a store role: not theirs.
        assert (await download(client, tenant, "store_gm@B", store["id"])).status_code == 404
        assert (await download(client, tenant, "store_gm@A", group["id"])).status_code == 404
        r = await client.post(API, json={"kind": "group_comparison", "month": "2026-11"},
                              headers=await tenant.headers("store_gm@A"))
        assert r.status_code == 403
        r = await client.post(API, json={"kind": "complaint_month", "month": "2026-11", "store_id": tenant.store_a},
                              headers=await other_tenant.headers("hq_viewer"))
        assert r.status_code == 404
        assert (await client.get(API, headers=await tenant.headers("staff@A"))).status_code == 403
        listed = (await client.get(API, headers=await tenant.headers("hq_viewer"))).json()
        by_store = [(await client.get(API, params={"sort": order}, headers=await tenant.headers("hq_viewer"))).json()
                    for order in ("store", "-store")]
        mine = (await client.get(API, headers=await tenant.headers("store_gm@A"))).json()
    assert {r["id"] for r in listed["items"]} == {store["id"], group["id"]} and listed["total"] == 2
    assert [[r["id"] for r in page["items"]] for page in by_store] == [[group["id"], store["id"]],
                                                                      [store["id"], group["id"]]]
    assert [r["id"] for r in mine["items"]] == [store["id"]] and mine["total"] == 1


@pytest.mark.parametrize("body, field", [
    ({"kind": "nope", "month": "2026-11"}, "kind"),
    ({"kind": "complaint_month", "month": "2026-13"}, "month"),
    ({"kind": "complaint_month", "month": "2026-11"}, "store_id"),
])
async def test_bad_requests_answer_400_with_the_field(client, tenant, body, field):
    r = await client.post(API, json=body, headers=await tenant.headers("hq_viewer"))
    assert r.status_code == 400, r.text
    assert field in r.text


async def test_a_failing_render_is_retried_then_shown_failed_with_the_reason(client, tenant, monkeypatch):
    async def broken(html: str):
        """The child fails after the hand-over, while the XLSX is being made beside it."""
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(RuntimeError("字体缺失"))
        return failed

    monkeypatch.setattr(render, "start_pdf", broken)
    stored = render.file_path("0" * 64, "pdf").parent.parent
    files_before = sorted(stored.rglob("*")) if stored.exists() else []
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        report = await ask(client, tenant, "store_gm@A", kind="complaint_month", store_id=tenant.store_a)
        with pytest.raises(Retry):
            await run_render_job(report["id"], attempt=1)
        retrying = await status_of(report["id"])
        with pytest.raises(Retry):
            await run_render_job(report["id"], attempt=2)
        assert (await run_render_job(report["id"], attempt=3)) == {"failed": 1}
        shown = (await client.get(f"{API}/{report['id']}", headers=await tenant.headers("store_gm@A"))).json()
        not_ready = await download(client, tenant, "store_gm@A", report["id"])
    assert retrying["status"] == "queued" and "字体缺失" in retrying["reason"]
    assert shown["status"] == "failed" and "字体缺失" in shown["reason"] and shown["attempts"] == 3
    assert not_ready.status_code == 409
    assert (sorted(stored.rglob("*")) if stored.exists() else []) == files_before, "a failed render stores no file"


async def test_cr_center_report_shows_the_dashboard_callback_figures(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        body = await dashboard_rows(client, tenant)
        report = await ask(client, tenant, "store_gm@A", kind="cr_center_month", store_id=tenant.store_a)
        await run_render_job(report["id"])
        pdf = await download(client, tenant, "store_gm@A", report["id"])
    text = extract(pdf.content)
    assert "客户关系中心月报表" in text.text and "\ufffd" not in text.text and 1 <= text.pages <= 3
    values = {row["store_id"]: row for row in body["rows"]}[tenant.store_a]["values"]
    assert values["satisfaction_rate"] == pytest.approx(0.5)
    for key in ("callback_rate", "callback_on_time_rate", "unreachable_rate", "satisfaction_rate", "complaints",
                "major_complaints", "handle_on_time_rate"):
        assert f"{METRICS[key].label_zh}{display(values[key], METRICS[key].unit)}" in text.text, key


@pytest.mark.parametrize("kind, title", [("sales_callbacks_month", "新购车用户回访记录统计表"),
                                         ("service_callbacks_month", "维修用户回访记录统计表")])
async def test_callback_statistics_reports_render(client, tenant, kind, title):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        stats = await client.get("/api/v1/callbacks/statistics", params={
            "store_id": tenant.store_a, "period": "month", "date": "2026-11-01"},
            headers=await tenant.headers("store_gm@A"))
        report = await ask(client, tenant, "store_gm@A", kind=kind, store_id=tenant.store_a)
        await run_render_job(report["id"])
        pdf = await download(client, tenant, "store_gm@A", report["id"])
    text = extract(pdf.content)
    assert title in text.text and "本月合计" in text.text and "\ufffd" not in text.text
    assert stats.status_code == 200, stats.text
    figures = stats.json()["service" if kind.startswith("service") else "sales"]
    assert f"合计{figures['planned']}{figures['called']}{figures['on_time']}" in text.text


async def test_subscribers_are_notified_by_email_when_a_report_is_ready(client, tenant):
    from crm.notify.tables import Notification
    from tenants.tables import User

    gm = tenant.users["store_gm@A"]
    await User.update({User.email: "gm@example.com"}).where(User.id == gm)
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        headers = await tenant.headers("store_gm@A")
        r = await client.post(f"{API}/subscriptions", json={"kind": "complaint_month", "store_id": tenant.store_a},
                              headers=headers)
        assert r.status_code == 204, r.text
        r = await client.post(f"{API}/subscriptions", json={"kind": "complaint_month", "store_id": tenant.store_b},
                              headers=headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/subscriptions", headers=headers)).json()["items"] == [
            {"kind": "complaint_month", "store_id": tenant.store_a}]
        report = await ask(client, tenant, "store_cr_manager@A", kind="complaint_month", store_id=tenant.store_a)
        assert (await run_render_job(report["id"]))["subscribers"] >= 1
    sent = await Notification.select(Notification.channel, Notification.title_zh, Notification.link).where(
        Notification.recipient == gm, Notification.kind == "report_ready")
    assert {n["channel"] for n in sent} == {"inapp", "email"}
    assert all("月份客户投诉处理统计月报表" in n["title_zh"] and n["link"] == f"/reports/{report['id']}/download?format=pdf"
               for n in sent)
