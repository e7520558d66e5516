"""The report jobs as the workers run them: the monthly cron plans every report once, even when two workers
run it at the same moment; a real arq worker renders a requested report (in its child process)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from crm.queue import forget_jobs, get_queue
from crm.reports.tables import ReportRequest
from tests.support.reports import NOW, build_november, status_of
from tests.support.workers import start_worker, stop_worker, wait_for
from workers import reports as report_jobs

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def queued_render_jobs() -> dict[int, list[str]]:
    """Queued render jobs by report id."""
    jobs: dict[int, list[str]] = {}
    for job in await (await get_queue()).queued_jobs():
        if job.function == "render_report":
            jobs.setdefault(job.args[0], []).append(job.job_id)
    return jobs


async def test_the_monthly_cron_plans_each_report_once_with_two_workers(tenant):
    before = set(await queued_render_jobs())
    with time_machine.travel(datetime(2027, 1, 1, 5, 50, tzinfo=SHANGHAI), tick=False):
        early = await report_jobs.plan_monthly_reports({})
        assert await ReportRequest.count().where(ReportRequest.group == tenant.group_id) == 0
    with time_machine.travel(datetime(2027, 1, 1, 6, 0, 5, tzinfo=SHANGHAI), tick=False):
        first, second = await asyncio.gather(report_jobs.plan_monthly_reports({}),
                                             report_jobs.plan_monthly_reports({}))
        third = await report_jobs.plan_monthly_reports({})
    rows = await ReportRequest.select(ReportRequest.id, ReportRequest.kind, ReportRequest.store,
                                      ReportRequest.month, ReportRequest.status).where(
        ReportRequest.group == tenant.group_id)
    jobs = await queued_render_jobs()
    await forget_jobs([job for report_id, ids in jobs.items() if report_id not in before for job in ids])
    assert early == {"planned": 0} and third == {"planned": 0}
    assert sorted((r["kind"], r["store"]) for r in rows) == sorted(
        [(kind, s) for s in tenant.store_ids for kind in ("complaint_month", "cr_center_month")]
        + [("group_comparison", None)])
    assert {r["month"] for r in rows} == {"2026-12"} and {r["status"] for r in rows} == {"queued"}
    assert all(len(jobs[r["id"]]) == 1 for r in rows)  # one render job each
    new = [report_id for report_id in jobs if report_id not in before]
    assert first["planned"] + second["planned"] == len(new)


async def test_a_real_worker_renders_a_requested_report(client, tenant, tmp_path):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
    r = await client.post("/api/v1/reports", json={"kind": "complaint_month", "month": "2026-11",
                                                   "store_id": tenant.store_a},
                          headers=await tenant.headers("store_cr_manager@A"))
    assert r.status_code == 202, r.text
    log = tmp_path / "worker.log"
    worker = start_worker(log, groups=[tenant.group_id])
    try:
        async def ready() -> bool:
            return (await status_of(r.json()["id"]))["status"] == "ready"

        await wait_for(ready, what="the report to be rendered", log=log, limit=120)
    finally:
        stop_worker(worker)
    pdf = await client.get(f"/api/v1/reports/{r.json()['id']}/download",
                           headers=await tenant.headers("store_cr_manager@A"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "function=render_report" in log.read_text() and worker.returncode == 0
