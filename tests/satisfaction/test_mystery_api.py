"""Mystery-shopper API and pages: checkpoint lists per brand, audits with rate and multiplier, the
0-checkpoint refusal, XLSX/CSV import with per-row errors, and other tenants' and stores' 404s."""

from __future__ import annotations



from tenants.tables import Store
from tests.support import imports
from tests.support.imports import finished, started

BASE = "/api/v1/mystery-shopper"
CHECKLIST = [("展厅接待", "30秒内主动迎接"), ("展厅接待", "递送名片"), ("需求分析", "询问用车需求"), ("试乘试驾", "主动邀约试驾")]


async def set_checklist(client, tenant, division_id=None) -> list[dict]:
    response = await client.put(f"{BASE}/checkpoints", headers=await tenant.headers("group_admin"), json={
        "brand_division_id": division_id or tenant.division_ids[0],
        "checkpoints": [{"section": s, "item": i} for s, i in CHECKLIST],
    })
    assert response.status_code == 200, response.text
    assert response.json()["total"] == len(CHECKLIST)
    return response.json()["items"]


async def record(client, tenant, checkpoints, scored: int, day="2026-11-20", store_id=None, who="group_customer_service"):
    results = [{"checkpoint_id": c["id"], "scored": n < scored, "remark": "" if n < scored else "未做到"}
               for n, c in enumerate(checkpoints)]
    return await client.post(f"{BASE}/audits", headers=await tenant.headers(who), json={
        "store_id": store_id or tenant.store_a, "audited_on": day, "results": results, "auditor": "王五",
    })


async def test_an_audit_gets_its_rate_and_multiplier(client, tenant):
    checkpoints = await set_checklist(client, tenant)
    response = await record(client, tenant, checkpoints, scored=3)
    assert response.status_code == 201, response.text
    audit = response.json()
    assert (audit["scored"], audit["lost"], audit["score_rate"], audit["multiplier"]) == (3, 1, "75.00", "0.7")
    assert [r["scored"] for r in audit["results"]] == [True, True, True, False]
    assert audit["results"][3]["remark"] == "未做到"

    listed = await client.get(f"{BASE}/audits", params={"store_id": tenant.store_a},
                              headers=await tenant.headers("store_gm@A"))
    assert [a["id"] for a in listed.json()["items"]] == [audit["id"]]
    one = await client.get(f"{BASE}/audits/{audit['id']}", headers=await tenant.headers("store_gm@A"))
    assert one.status_code == 200 and one.json()["multiplier"] == "0.7"

    again = await record(client, tenant, checkpoints, scored=4)
    assert again.status_code == 409, again.text


async def test_a_zero_checkpoint_audit_is_refused(client, tenant):
    await set_checklist(client, tenant)
    response = await record(client, tenant, [], scored=0)
    assert response.status_code == 400
    [problem] = response.json()["errors"]
    assert problem["field"] == "results" and "0个检查项" in problem["message_zh"] and problem["message_en"]


async def test_bad_results_are_field_errors_in_both_languages(client, tenant, other_tenant):
    checkpoints = await set_checklist(client, tenant)
    foreign = await set_checklist(client, other_tenant)
    other_brand = await set_checklist(client, tenant, division_id=tenant.division_ids[1])
    response = await client.post(f"{BASE}/audits", headers=await tenant.headers("group_admin"), json={
        "store_id": tenant.store_a, "audited_on": "2026-11-20",
        "results": [{"checkpoint_id": checkpoints[0]["id"], "scored": True},
                    {"checkpoint_id": checkpoints[0]["id"], "scored": False},
                    {"checkpoint_id": foreign[0]["id"], "scored": True},
                    {"checkpoint_id": other_brand[0]["id"], "scored": True}],
    })
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [
        "results[1].checkpoint_id", "results[2].checkpoint_id", "results[3].checkpoint_id"]
    missing = await client.post(f"{BASE}/audits", headers=await tenant.headers("group_admin"), json={"store_id": 1})
    assert missing.status_code == 400 and missing.json()["errors"][0]["message_zh"]


async def test_store_staff_read_but_do_not_record(client, tenant):
    checkpoints = await set_checklist(client, tenant)
    assert (await record(client, tenant, checkpoints, 2, who="store_gm@A")).status_code == 403
    response = await client.put(f"{BASE}/checkpoints", headers=await tenant.headers("hq_viewer"),
                                json={"brand_division_id": tenant.division_ids[0], "checkpoints": []})
    assert response.status_code == 403


async def test_editing_the_list_keeps_ids_and_past_audits(client, tenant):
    checkpoints = await set_checklist(client, tenant)
    audit = (await record(client, tenant, checkpoints, scored=2)).json()
    response = await client.put(f"{BASE}/checkpoints", headers=await tenant.headers("group_admin"), json={
        "brand_division_id": tenant.division_ids[0],
        "checkpoints": [{"section": "展厅接待", "item": "递送名片"}, {"section": "交车", "item": "介绍售后顾问"}],
    })
    kept, new = response.json()["items"]
    assert kept["id"] == checkpoints[1]["id"] and new["id"] not in {c["id"] for c in checkpoints}
    one = await client.get(f"{BASE}/audits/{audit['id']}", headers=await tenant.headers("group_admin"))
    assert [r["item"] for r in one.json()["results"]] == [i for _, i in CHECKLIST]


async def test_other_tenants_and_stores_get_404(client, tenant, other_tenant):
    checkpoints = await set_checklist(client, tenant)
    audit = (await record(client, tenant, checkpoints, scored=4)).json()
    for caller, who in [(other_tenant, "group_admin"), (other_tenant, "store_gm@A"), (tenant, "store_gm@B"),
                        (tenant, "brand_manager@div2")]:
        headers = await caller.headers(who)
        assert (await client.get(f"{BASE}/audits/{audit['id']}", headers=headers)).status_code == 404, who
        listed = await client.get(f"{BASE}/audits", headers=headers)
        assert audit["id"] not in [a["id"] for a in listed.json()["items"]], who
    foreign = await client.get(f"{BASE}/checkpoints", params={"brand_division_id": tenant.division_ids[0]},
                               headers=await other_tenant.headers("group_admin"))
    assert foreign.status_code == 400 and foreign.json()["errors"][0]["field"] == "brand_division_id"
    store = await client.get(f"{BASE}/stores/{tenant.store_a}/checkpoints", headers=await other_tenant.headers("group_admin"))
    assert store.status_code == 404
    page = await client.get(f"{BASE}/audits/{audit['id']}", headers=await other_tenant.headers("hq_viewer"))
    assert page.status_code == 404
    refused = await record(client, other_tenant, checkpoints, 2, store_id=tenant.store_a, who="group_admin")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "store_id"


def xlsx(rows: list[list]) -> bytes:
    return imports.xlsx([["神秘客户检查结果"], *rows])  # a title row above the header


async def store_code(store_id: int) -> str:
    return (await Store.select(Store.code).where(Store.id == store_id).first())["code"]


async def upload(client, tenant, content: bytes, accept=False, name="audits.xlsx"):
    return await started(client, await tenant.headers("group_customer_service"), f"{BASE}/audits/import", name,
                         content, accept_valid_rows=accept)


async def audits_imported(client, tenant, content: bytes, accept=False, name="audits.xlsx") -> dict:
    """The import's job, run to its end: the report is in it."""
    return await finished(client, await tenant.headers("group_customer_service"),
                          await upload(client, tenant, content, accept, name))


async def test_import_of_audits_with_row_errors_is_all_or_nothing(client, tenant):
    await set_checklist(client, tenant)
    a, b = await store_code(tenant.store_a), await store_code(tenant.store_b)
    header = ["门店编码", "检查日期", "环节", "检查项", "结果", "备注", "检查员"]
    good = [[a, "2026-11-18", s, i, "得分" if n < 3 else "失分", "", "李四"] for n, (s, i) in enumerate(CHECKLIST)]
    bad = [[b, "2026-11-18", "展厅接待", "30秒内主动迎接", "得分", "", ""],
           [b, "2026-11-18", "展厅接待", "不存在的检查项", "得分", "", ""],
           ["NOPE", "2026/11/18", "展厅接待", "递送名片", "也许", "", ""],
           [a, "2026-13-45", "展厅接待", "递送名片", "得分", "", ""]]
    content = xlsx([header, *good, *bad])

    refused = await audits_imported(client, tenant, content)
    assert refused["status"] == "done" and refused["imported"] is False, refused
    errors = refused["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (8, "item"), (9, "store"), (9, "result"), (10, "audited_on")]
    assert errors[0]["column"] == "检查项" and errors[0]["message_zh"] and errors[0]["message_en"]
    assert (refused["rows_read"], refused["rows_accepted"], refused["rows_rejected"]) == (8, 0, 3)
    listed = await client.get(f"{BASE}/audits", headers=await tenant.headers("group_admin"))
    assert listed.json()["items"] == [] and listed.json()["total"] == 0

    accepted = await audits_imported(client, tenant, content, accept=True)
    assert accepted["imported"] is True, accepted
    report = accepted["report"]
    assert [(x["store_id"], x["scored"], x["lost"], x["multiplier"]) for x in report["audits"]] == [
        (tenant.store_a, 3, 1, "0.7")]
    assert report["skipped_audits"] == 1  # store B's audit had a bad row: not imported in part
    assert (accepted["rows_accepted"], accepted["rows_rejected"]) == (4, 3)

    again = await audits_imported(client, tenant, content, accept=True)
    assert again["imported"] is True
    listed = await client.get(f"{BASE}/audits", headers=await tenant.headers("group_admin"))
    assert listed.json()["total"] == 1, "re-import replaces, never duplicates"


async def test_import_reads_csv_with_english_headers(client, tenant):
    await set_checklist(client, tenant)
    a = await store_code(tenant.store_a)
    lines = ["store code,date,section,checkpoint,result,remark"] + [
        f"{a},2026-11-19,{s},{i},{'scored' if n else 'lost'}," for n, (s, i) in enumerate(CHECKLIST)]
    job = await audits_imported(client, tenant, "\n".join(lines).encode("gbk"), name="audits.csv")
    assert job["report"]["audits"][0]["score_rate"] == "75.00"
    broken = await upload(client, tenant, b"PK\x03\x04 not really a workbook")
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "file"
    headless = await upload(client, tenant, b"a,b\n1,2\n", name="x.csv")
    assert headless.status_code == 400 and "检查项" in headless.json()["errors"][0]["message_zh"]


async def test_pages_list_record_and_show_an_audit(browser_session, client, tenant):
    checkpoints = await set_checklist(client, tenant)
    web = await browser_session(tenant.usernames["group_customer_service"])
    page = await web.get("/mystery-shopper/new", params={"store_id": tenant.store_a})
    assert page.status_code == 200 and "30秒内主动迎接" in page.text
    token = web.cookies.get("csrftoken") or ""
    form = {"store_id": str(tenant.store_a), "audited_on": "2026-11-21", "auditor": "赵六", "_csrf_token": token}
    for n, c in enumerate(checkpoints):
        form[f"cp_{c['id']}"] = "scored" if n < 3 else "na"
    saved = await web.post("/mystery-shopper/new", data=form, headers={"X-CSRFToken": token})
    assert saved.status_code == 303, saved.text
    shown = await web.get(saved.headers["location"])
    assert "100.00%" in shown.text and "×1.0" in shown.text
    listing = await web.get("/mystery-shopper")
    assert "神秘客户检查" in listing.text and "100.00%" in listing.text
    empty = await web.post("/mystery-shopper/new", headers={"X-CSRFToken": token}, data={
        "store_id": str(tenant.store_a), "audited_on": "2026-11-22", "_csrf_token": token})
    assert empty.status_code == 400 and "0个检查项" in empty.text
