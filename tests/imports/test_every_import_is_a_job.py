"""Every import is a background job (issue 15): the mystery-shopper audits, the manufacturer scores and the people
imports answer 202 with the job's URL, a real arq worker imports the kept file, and the job ends with the per-row
report. A file with a bad row writes nothing. A group's job is seen only by the group roles that may import its
kind (404 for store staff and for another group); a store manager's people import is their store's job."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import time_machine
from openpyxl import Workbook

from crm import clock
from crm.imports import service as imports
from crm.imports.tables import ImportJob
from crm.queue import get_queue
from crm.satisfaction.sheets import read_sheet
from crm.satisfaction.tables import ManufacturerScore, MysteryAudit
from crm.organisation import people_import
from tenants.tables import Store, User
from tests.support.customers import run_queued_import
from tests.support.imports import finished, started, xlsx
from tests.support.web import csrf_of
from tests.support.workers import start_worker, stop_worker, wait_for

AUDITS = "/api/v1/mystery-shopper/audits/import"
SCORES = "/api/v1/manufacturer-scores/import"
PEOPLE = "/api/v1/users/import"
CHECKLIST = [("展厅接待", "30秒内主动迎接"), ("展厅接待", "递送名片")]


async def code(store_id: int) -> str:
    return (await Store.select(Store.code).where(Store.id == store_id).first())["code"]


async def audit_file(client, tenant, *, bad: bool = False) -> bytes:
    admin = await tenant.headers("group_admin")
    put = await client.put("/api/v1/mystery-shopper/checkpoints", headers=admin, json={
        "brand_division_id": tenant.division_ids[0], "checkpoints": [{"section": s, "item": i} for s, i in CHECKLIST]})
    assert put.status_code == 200, put.text
    a = await code(tenant.store_a)
    rows = [["门店编码", "检查日期", "环节", "检查项", "结果"], *([a, "2026-11-18", s, i, "得分"] for s, i in CHECKLIST)]
    if bad:
        rows.append([a, "2026-11-19", "展厅接待", "递送名片", "也许"])
    return xlsx(rows)


async def score_file(tenant, *, bad: bool = False) -> bytes:
    a = await code(tenant.store_a)
    rows = [["门店编码", "调查方式", "期间", "指标", "得分"], [a, "电访", "2026-11", "SSI", 91], [a, "电访", "2026-11", "CSI", 89]]
    if bad:
        rows.append([a, "电访", "2026-13", "SSI", 90])
    return xlsx(rows)


async def people_file(tenant, tag: str, *, bad: bool = False) -> bytes:
    rows = [["用户名", "姓名", "角色", "门店编码"], [f"{tag}_1_{tenant.group_id}", "钱一", "回访员", await code(tenant.store_a)]]
    if bad:
        rows.append([f"{tag}_2_{tenant.group_id}", "钱二", "店长", await code(tenant.store_a)])  # no such role
    return xlsx(rows)


async def written(tenant, tag: str) -> tuple[int, int, bool]:
    """What the three imports wrote: audits and scores of the test's group, and the sheet's first user."""
    audits = await MysteryAudit.count().where(MysteryAudit.group == tenant.group_id)
    scores = await ManufacturerScore.count().where(ManufacturerScore.group == tenant.group_id)
    return audits, scores, await User.exists().where(User.username == f"{tag}_1_{tenant.group_id}")


async def test_each_import_is_done_by_a_real_worker(client, tenant, tmp_path):
    admin = await tenant.headers("group_admin")
    uploads = [await started(client, admin, AUDITS, "audits.xlsx", await audit_file(client, tenant)),
               await started(client, admin, SCORES, "scores.xlsx", await score_file(tenant)),
               await started(client, admin, PEOPLE, "people.xlsx", await people_file(tenant, "wrk"))]
    assert [u.status_code for u in uploads] == [202, 202, 202], [u.text for u in uploads]
    urls = [u.json()["url"] for u in uploads]
    assert await written(tenant, "wrk") == (0, 0, False)  # nothing read inside the request
    jobs = await ImportJob.select(ImportJob.kind, ImportJob.store).where(
        ImportJob.id.is_in([u.json()["job_id"] for u in uploads]))
    assert sorted((j["kind"], j["store"]) for j in jobs) == [
        ("manufacturer_scores", None), ("mystery_audits", None), ("people", None)]  # the group's jobs

    log = tmp_path / "worker.log"
    worker = start_worker(log, groups=[tenant.group_id])
    try:
        async def all_finished() -> bool:
            return all([(await client.get(url, headers=admin)).json()["finished"] for url in urls])

        await wait_for(all_finished, what="the three import jobs to finish", log=log, limit=120)
    finally:
        stop_worker(worker)
    audits, scores, people = [(await client.get(url, headers=admin)).json() for url in urls]
    assert [(j["status"], j["imported"]) for j in (audits, scores, people)] == [("done", True)] * 3
    assert (audits["rows_read"], audits["rows_accepted"], audits["report"]["audits"][0]["scored"]) == (2, 2, 2)
    assert (scores["rows_read"], scores["rows_accepted"], scores["report"]["written"]) == (2, 2, 2)
    assert people["rows_accepted"] == 1 and people["report"]["created"][0]["username"] == f"wrk_1_{tenant.group_id}"
    assert await written(tenant, "wrk") == (1, 2, True)
    assert log.read_text().count("function=run_import") >= 3


async def test_a_bad_row_writes_nothing_and_is_reported(client, tenant):
    admin = await tenant.headers("group_admin")
    files = [(AUDITS, await audit_file(client, tenant, bad=True), (4, "result")),
             (SCORES, await score_file(tenant, bad=True), (4, "period")),
             (PEOPLE, await people_file(tenant, "bad", bad=True), (3, "roles"))]
    for url, content, (row, field) in files:
        job = await finished(client, admin, await started(client, admin, url, "file.xlsx", content))
        assert (job["status"], job["imported"], job["rows_accepted"], job["rows_rejected"]) == ("done", False, 0, 1)
        assert [(e["row"], e["field"]) for e in job["errors"]] == [(row, field)], job["errors"]
        assert job["errors"][0]["message_zh"] and job["errors"][0]["message_en"]
    assert await written(tenant, "bad") == (0, 0, False)


async def test_an_unreadable_file_is_refused_at_once(client, tenant):
    admin = await tenant.headers("group_admin")
    for url in (AUDITS, SCORES, PEOPLE):
        broken = await started(client, admin, url, "x.xlsx", b"PK\x03\x04 not really a workbook")
        assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "file", broken.text
        headless = await started(client, admin, url, "x.csv", "a,b\n1,2\n".encode())
        assert headless.status_code == 400 and headless.json()["errors"][0]["field"] == "file"
    assert await ImportJob.count().where(ImportJob.group == tenant.group_id) == 0


async def test_a_group_job_is_seen_only_by_the_group_roles_that_may_import_it(client, tenant, other_tenant,
                                                                                browser_session):
    agent = await tenant.headers("group_customer_service")
    response = await started(client, agent, AUDITS, "audits.xlsx", await audit_file(client, tenant))
    url, job_id = response.json()["url"], response.json()["job_id"]
    for who, status in (("group_customer_service", 200), ("group_admin", 200), ("hq_viewer", 404),
                        ("store_gm@A", 404), ("staff@A", 404)):
        assert (await client.get(url, headers=await tenant.headers(who))).status_code == status, who
    assert (await client.get(url, headers=await other_tenant.headers("group_admin"))).status_code == 404
    for username, status in ((tenant.usernames["group_admin"], 200), (tenant.usernames["hq_viewer"], 404),
                             (tenant.usernames["store_gm@A"], 404), (other_tenant.usernames["group_admin"], 404)):
        web = await browser_session(username)
        for path in (f"/imports/{job_id}", f"/imports/{job_id}/progress"):
            assert (await web.get(path)).status_code == status, (username, path)
    # Roles that may not import a kind are refused at the upload, as everywhere.
    refused = await started(client, await tenant.headers("hq_viewer"), SCORES, "s.xlsx", await score_file(tenant))
    assert refused.status_code == 403
    refused = await started(client, await tenant.headers("store_cr_manager@A"), PEOPLE, "p.xlsx",
                            await people_file(tenant, "cr"))
    assert refused.status_code == 403


async def test_a_store_managers_people_import_is_their_stores_and_its_passwords_are_shown_once(client, tenant,
                                                                                              other_tenant):
    gm = await tenant.headers("store_gm@A")
    response = await started(client, gm, PEOPLE, "people.xlsx", await people_file(tenant, "gm"))
    assert response.status_code == 202, response.text
    job_id, url = response.json()["job_id"], response.json()["url"]
    assert (await ImportJob.select(ImportJob.store).where(ImportJob.id == job_id).first())["store"] == tenant.store_a
    await run_queued_import(job_id)
    admin = (await client.get(url, headers=await tenant.headers("group_admin"))).json()
    assert admin["imported"] is True and admin["report"]["created"][0]["temporary_password"] == ""  # not the importer
    kept = (await ImportJob.select(ImportJob.report).where(ImportJob.id == job_id).first())["report"]
    first = (await client.get(url, headers=gm)).json()
    password = first["report"]["created"][0]["temporary_password"]
    assert password and not password.startswith("v1:")
    assert password not in str(kept) and "v1:" in str(kept), "the job keeps the password sealed until it is read"
    login = {"group_code": tenant.code, "username": first["report"]["created"][0]["username"], "password": password}
    assert (await client.post("/api/v1/auth/token", json=login)).status_code == 200
    assert (await client.get(url, headers=gm)).json()["report"]["created"][0]["temporary_password"] == ""
    for who, status in (("store_gm@B", 404), ("store_cr_manager@A", 403), ("staff@A", 403)):
        assert (await client.get(url, headers=await tenant.headers(who))).status_code == status, who
    assert (await client.get(url, headers=await other_tenant.headers("group_admin"))).status_code == 404

    # HQ's people import belongs to the group: the store manager does not see it.
    hq = await started(client, await tenant.headers("group_admin"), PEOPLE, "p.xlsx", await people_file(tenant, "hq"))
    assert (await client.get(hq.json()["url"], headers=gm)).status_code == 404


async def test_the_upload_forms_go_to_the_job_page_which_shows_the_report(tenant, browser_session, client):
    web = await browser_session(tenant.usernames["group_admin"])
    forms = [("/mystery-shopper", "/mystery-shopper/import", await audit_file(client, tenant), "import-errors"),
             ("/satisfaction", "/satisfaction/import", await score_file(tenant, bad=True), "import-errors"),
             ("/people", "/people/import", await people_file(tenant, "web"), "people-created")]
    for page_path, action, content, shown in forms:
        page = await web.get(page_path)
        posted = await web.post(action, data={"_csrf_token": csrf_of(page.text)},
                                files={"file": ("f.xlsx", content, "application/octet-stream")})
        assert posted.status_code == 303, (action, posted.text[:500])
        job_url = posted.headers["location"]
        queued = await web.get(job_url)
        assert 'data-status="queued"' in queued.text and f'hx-get="{job_url}/progress"' in queued.text
        await run_queued_import(int(job_url.rsplit("/", 1)[1]))
        done = await web.get(f"{job_url}/progress")
        assert 'data-status="done"' in done.text and "hx-trigger" not in done.text
        if shown == "people-created" or action == "/mystery-shopper/import":
            assert 'data-imported="1"' in done.text, action
        assert f'id="{shown}"' in done.text or action == "/mystery-shopper/import", action
        missing = await web.post(action, data={"_csrf_token": csrf_of(page.text)})
        assert missing.status_code == 400 and "请选择文件" in missing.text, action
    assert (await written(tenant, "web"))[2]


async def test_a_group_job_whose_worker_died_is_run_again(client, tenant):
    admin = await tenant.headers("group_admin")
    response = await started(client, admin, SCORES, "scores.xlsx", await score_file(tenant))
    job_id = response.json()["job_id"]
    await ImportJob.update({ImportJob.status: "running", ImportJob.attempts: 1,
                            ImportJob.heartbeat_at: clock.now()}).where(ImportJob.id == job_id)
    with time_machine.travel(clock.now() + imports.STALE_AFTER + timedelta(seconds=1), tick=False):
        assert await imports.sweep_stale(groups=[tenant.group_id]) == {"requeued": 1, "failed": 0}
        queued = {job.job_id for job in await (await get_queue()).queued_jobs() if job.function == "run_import"}
        assert f"import:{job_id}:1" in queued
        await run_queued_import(job_id)
    job = (await client.get(response.json()["url"], headers=admin)).json()
    assert (job["status"], job["imported"]) == ("done", True)


def test_a_large_people_sheet_is_read_in_read_only_mode(tmp_path):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人员")
    sheet.append(["用户名", "姓名", "角色", "门店编码"])
    for n in range(20_000):
        sheet.append([f"user{n}", f"员工{n}", "员工", "SH01"])
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    with path.open("rb") as file:
        tracemalloc.start()
        try:
            with read_sheet(filename="people.xlsx", content=file, aliases=people_import.ALIASES,
                            required=people_import.REQUIRED) as parsed:
                count = sum(1 for _ in parsed.rows)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 20_000 and peak < 5_000_000, peak
