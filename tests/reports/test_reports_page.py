"""The reports page (报表中心): ask for a report by the form, see its state, download it when ready."""

from __future__ import annotations

import time_machine

from crm.reports.tables import ReportRequest
from tests.support.reports import NOW, build_november, run_render_job
from tests.support.web import csrf_of


async def test_a_store_manager_asks_for_a_report_and_downloads_it(browser_session, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        web = await browser_session(tenant.usernames["store_cr_manager@A"])
        page = await web.get("/reports")
        assert page.status_code == 200 and "报表中心" in page.text and "月份客户投诉处理统计月报表" in page.text
        assert "集团门店对比月报" not in page.text  # HQ only
        sent = await web.post("/reports", data={"_csrf_token": csrf_of(page.text), "kind": "complaint_month",
                                                "store_id": str(tenant.store_a), "month": "2026-11"})
        assert sent.status_code == 303, sent.text
        queued = await web.get("/reports")
        assert "排队中" in queued.text and 'hx-trigger="every 3s"' in queued.text
        report = await ReportRequest.select(ReportRequest.id).where(ReportRequest.group == tenant.group_id).first()
        await run_render_job(report["id"])
        ready = await web.get("/reports")
        pdf = await web.get(f"/reports/{report['id']}/download", params={"format": "pdf"})
        bad = await web.post("/reports", data={"_csrf_token": csrf_of(page.text), "kind": "complaint_month",
                                               "store_id": str(tenant.store_a), "month": "2026-1x"})
    assert "已生成" in ready.text and f"/reports/{report['id']}/download?format=xlsx" in ready.text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert bad.status_code == 400 and "月份须写作" in bad.text
