"""Imports run as background jobs (issue 15): the upload answers 202 at once, a real arq worker reads the kept
file as a stream and moves the job's counts on, and the job ends with the per-row report. All-or-nothing stays
all-or-nothing; another tenant's job is 404; a job whose worker died is queued again or failed by the sweep."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.customers.importer import MAX_REPORTED_ERRORS
from crm.customers.tables import Customer
from crm.imports import service as imports
from crm.imports.tables import ImportJob
from crm.queue import get_queue
from tests.support.builders import make_mobile, make_vin
from tests.support.customers import csv_text, import_job, imported, run_queued_import, upload
from tests.support.workers import start_worker, stop_worker, wait_for

ROWS = 4_000


def customer_rows(count: int, *, bad_at: set[int] = frozenset()) -> bytes:
    rows = [["客户姓名", "手机", "车架号", "车牌号", "交车日期", "订单号"]]
    for n in range(count):
        mobile = "1380013800" if n in bad_at else make_mobile()  # ten digits: not a mobile
        rows.append([f"客户{n}", mobile, make_vin(), "", "2025-03-01", f"SO-{make_mobile()}"])
    return csv_text(rows).encode("utf-8")


async def job_row(job_id: int) -> dict:
    return await ImportJob.select().where(ImportJob.id == job_id).first()


async def test_a_large_file_is_imported_by_a_real_worker_with_progress(client, tenant, tmp_path):
    headers = await tenant.headers("store_cr_manager@A")
    started = await upload(client, headers, "dms.csv", customer_rows(ROWS))
    assert started.status_code == 202, started.text
    job_id, url = started.json()["job_id"], started.json()["url"]
    assert url == f"/api/v1/imports/{job_id}"
    queued = (await client.get(url, headers=headers)).json()
    assert queued["status"] == "queued" and queued["report"] is None and not queued["finished"]
    kept = imports.imports_dir() / (await job_row(job_id))["file_key"]
    assert kept.stat().st_mode & 0o777 == 0o600

    seen: list[tuple[str, int, int]] = []
    log = tmp_path / "worker.log"
    worker = start_worker(log, groups=[tenant.group_id])
    try:
        async def finished() -> bool:
            job = (await client.get(url, headers=headers)).json()
            seen.append((job["status"], job["rows_read"], job["rows_accepted"]))
            return job["finished"]

        await wait_for(finished, what="the import job to finish", log=log, limit=180)
    finally:
        stop_worker(worker)
    job = (await client.get(url, headers=headers)).json()
    assert job["status"] == "done" and job["imported"] is True, job
    assert (job["rows_read"], job["rows_accepted"], job["rows_rejected"]) == (ROWS, ROWS, 0)
    assert job["report"]["created"]["customers"] == ROWS and job["report"]["created"]["sales"] == ROWS
    assert await Customer.count().where(Customer.store == tenant.store_a) == ROWS
    # Progress was seen on the way: counts that moved while the job ran.
    assert any(status == "running" and 0 < read for status, read, _ in seen), seen
    assert not kept.exists()  # the file is kept only until its job ends
    assert "function=run_import" in log.read_text()


async def test_all_or_nothing_writes_nothing_for_one_bad_row_at_the_end(client, tenant):
    headers = await tenant.headers("store_gm@A")
    job = await imported(client, headers, "dms.csv", customer_rows(1_200, bad_at={1_199}))
    assert job["status"] == "done" and job["imported"] is False
    assert (job["rows_read"], job["rows_accepted"], job["rows_rejected"]) == (1_200, 0, 1)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(1_201, "mobile")]
    assert await Customer.count().where(Customer.store == tenant.store_a) == 0


async def test_accepting_valid_rows_reports_the_bad_ones_capped(client, tenant):
    headers = await tenant.headers("store_gm@A")
    bad = set(range(0, 600, 2))  # 300 bad rows
    job = await imported(client, headers, "dms.csv", customer_rows(600, bad_at=bad), accept_valid_rows=True)
    assert job["imported"] is True and (job["rows_accepted"], job["rows_rejected"]) == (300, 300)
    assert len(job["errors"]) == MAX_REPORTED_ERRORS and job["report"]["rows_with_errors"] == 300
    assert await Customer.count().where(Customer.store == tenant.store_a) == 300


async def test_another_tenants_or_stores_job_is_404(client, tenant, other_tenant):
    job_id = await import_job(await tenant.scope("store_cr_manager@A"), tenant.store_a)
    url = f"/api/v1/imports/{job_id}"
    assert (await client.get(url, headers=await tenant.headers("store_gm@A"))).status_code == 200
    assert (await client.get(url, headers=await tenant.headers("group_admin"))).status_code == 200
    assert (await client.get(url, headers=await tenant.headers("store_gm@B"))).status_code == 404
    assert (await client.get(url, headers=await other_tenant.headers("group_admin"))).status_code == 404
    assert (await client.get(url, headers=await tenant.headers("staff@A"))).status_code == 403


async def test_a_job_whose_worker_died_is_run_again_then_failed(tenant):
    job_id = await import_job(await tenant.scope("store_cr_manager@A"), tenant.store_a)
    # A worker took it and died: running, its heartbeat stopped.
    await ImportJob.update({ImportJob.status: "running", ImportJob.attempts: 1,
                            ImportJob.heartbeat_at: clock.now()}).where(ImportJob.id == job_id)
    assert (await imports.sweep_stale(groups=[tenant.group_id]))["requeued"] == 0  # a fresh heartbeat: still working
    with time_machine.travel(clock.now() + imports.STALE_AFTER + timedelta(seconds=1), tick=False):
        swept = await imports.sweep_stale(groups=[tenant.group_id])
        assert swept == {"requeued": 1, "failed": 0}
        row = await job_row(job_id)
        assert row["status"] == "queued" and row["attempts"] == 1
        queued = {job.job_id for job in await (await get_queue()).queued_jobs() if job.function == "run_import"}
        assert f"import:{job_id}:1" in queued
        await run_queued_import(job_id)  # the next try imports it: nothing of the dead try was committed
    row = await job_row(job_id)
    assert (row["status"], row["attempts"], row["imported"]) == ("done", 2, True)

    # Dying on every try: failed after the last one, with the reason.
    dead = await import_job(await tenant.scope("store_cr_manager@A"), tenant.store_a)
    await ImportJob.update({ImportJob.status: "running", ImportJob.attempts: imports.MAX_TRIES,
                            ImportJob.heartbeat_at: clock.now()}).where(ImportJob.id == dead)
    with time_machine.travel(clock.now() + imports.STALE_AFTER + timedelta(seconds=1), tick=False):
        assert (await imports.sweep_stale(groups=[tenant.group_id]))== {"requeued": 0, "failed": 1}
    row = await job_row(dead)
    assert row["status"] == "failed" and "interrupted" in row["problem"] and row["finished_at"] is not None
    assert not (imports.imports_dir() / row["file_key"]).exists()
