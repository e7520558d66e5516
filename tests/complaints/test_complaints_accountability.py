"""Staff accountability as the seeds count it (seed 000 §6, 001 §5.2): three separate counts per staff member
and month, the process-violation ladder per department and month, amounts from the group's settings, the
month view (API, page) and its XLSX export. Every test runs at a pinned instant."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from openpyxl import load_workbook

from crm.complaints import accountability, service
from crm.complaints.accountability import Amounts
from crm.timers import runner
from crm.timers.tables import Timer
from tenants.errors import Forbidden, InvalidInput
from tests.support.complaints import API
from tests.support.builders import customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
NEW_YEAR_10 = datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)


async def violate(tenant, on: date, department: str = "service", who: str = "staff@A", by: str = "store_gm@A",
                  **extra) -> int:
    return await accountability.record_violation(
        actor=await tenant.scope(by), staff_user_id=tenant.users[who], department=department, occurred_on=on,
        description="交车未按流程讲解", **extra,
    )


async def row_of(tenant, month: str, who: str = "staff@A", reader: str = "store_gm@A"):
    rows = await accountability.staff_accountability(actor=await tenant.scope(reader), month=month)
    return next((r for r in rows if r.user_id == tenant.users[who]), None)


async def test_the_third_violation_of_a_month_in_one_department_is_the_dismissal_step(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        first = await violate(tenant, date(2026, 12, 1))
        second = await violate(tenant, date(2026, 12, 2))
        row = await row_of(tenant, "2026-12")
        assert [(s.department, s.violations, s.step_zh, s.dismissal) for s in row.ladder] == [
            ("service", 2, "第二次", False)
        ]
        assert not row.dismissal
        third = await violate(tenant, date(2026, 12, 2))
        row = await row_of(tenant, "2026-12")
        gm = await tenant.scope("store_gm@A")
        steps = [(await accountability.violation(actor=gm, violation_id=v)).step_zh for v in (first, second, third)]
    assert steps == ["第一次", "第二次", "第三次（辞退）"]
    assert (row.violations, row.dismissal, row.ladder[0].step_zh) == (3, True, "第三次（辞退）")
    # Only violations climb: no complaint counts here.
    assert (row.liable_complaints, row.missed_deadlines) == (0, 0)


async def test_a_violation_in_a_second_department_does_not_climb_the_first_ones_ladder(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        await violate(tenant, date(2026, 12, 1), "service")
        await violate(tenant, date(2026, 12, 1), "service")
        other = await violate(tenant, date(2026, 12, 2), "accessories")
        row = await row_of(tenant, "2026-12")
        record = await accountability.violation(actor=await tenant.scope("store_gm@A"), violation_id=other)
    assert [(s.department, s.violations, s.dismissal) for s in row.ladder] == [
        ("service", 2, False), ("accessories", 1, False)
    ]
    assert (record.step, record.step_zh, row.dismissal) == (1, "第一次", False)


async def test_a_violation_on_the_first_of_the_next_month_starts_again(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        for day in (1, 15, 31):
            with time_machine.travel(datetime(2026, 12, day, 9, 0, tzinfo=SHANGHAI), tick=False):
                await violate(tenant, date(2026, 12, day))
    with time_machine.travel(NEW_YEAR_10, tick=False):
        january = await violate(tenant, date(2027, 1, 1))
        record = await accountability.violation(actor=await tenant.scope("store_gm@A"), violation_id=january)
        december, new_month = await row_of(tenant, "2026-12"), await row_of(tenant, "2027-01")
    assert (record.step_zh, record.dismissal) == ("第一次", False)
    assert (december.ladder[0].violations, december.dismissal) == (3, True)
    assert (new_month.ladder[0].violations, new_month.dismissal) == (1, False)


async def test_suggested_amounts_come_from_the_groups_settings(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        # The seed defaults: a first violation in after-sales costs 50, the second is blank in the seed.
        await violate(tenant, date(2026, 12, 1), "service")
        await violate(tenant, date(2026, 12, 2), "service")
        row = await row_of(tenant, "2026-12")
        assert (row.suggested_amount, row.amounts_missing) == (Decimal("50"), True)
        await accountability.set_amounts(actor=await tenant.scope("group_admin"), amounts={
            "service": Amounts(first_violation=Decimal("80"), second_violation=Decimal("150")),
            "sales": Amounts(first_violation=Decimal("30.50")),
        })
        await violate(tenant, date(2026, 12, 2), "sales")
        await violate(tenant, date(2026, 12, 2), "service")  # the dismissal step: no amount, dismissal instead
        row = await row_of(tenant, "2026-12")
    assert (row.suggested_amount, row.amounts_missing, row.dismissal) == (Decimal("260.50"), False, True)


async def test_liable_and_late_complaints_are_separate_counts_with_their_department_amounts(tenant):
    car = await customer_with_car(tenant, "A")
    await accountability.set_amounts(actor=await tenant.scope("group_admin"), amounts={
        "service": Amounts(liable=Decimal("100")), "sales": Amounts(not_in_time=Decimal("200")),
    })
    with time_machine.travel(WEDNESDAY_10, tick=False):
        agent, cr = await tenant.scope("call_center_agent"), await tenant.scope("store_cr_manager@A")
        head = await tenant.scope("department_head@A")
        cid = await service.create_complaint(actor=agent, store_id=tenant.store_a, customer_id=car.customer_id,
                                             channel="hotline_400", content="服务顾问态度差")
        await service.accept_complaint(actor=cr, complaint_id=cid)
        await service.assign_handler(actor=cr, complaint_id=cid, handler_user_id=head.user_id, department="sales")
        await service.record_cause(actor=head, complaint_id=cid, cause_category="service", department="service",
                                   liability="liable", accused_user_id=tenant.users["staff@A"])
    timer = await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.state == "pending"
    ).first()
    with time_machine.travel(WEDNESDAY_10 + timedelta(days=1, minutes=1), tick=False):
        assert await runner.fire_timer(timer["id"]) == "fired"
        staff, handler = await row_of(tenant, "2026-12"), await row_of(tenant, "2026-12", "department_head@A")
    assert (staff.liable_complaints, staff.missed_deadlines, staff.violations, staff.ladder) == (1, 0, 0, [])
    assert staff.suggested_amount == Decimal("100")
    assert (handler.liable_complaints, handler.missed_deadlines, handler.violations) == (0, 1, 0)
    assert (handler.suggested_amount, handler.amounts_missing) == (Decimal("200"), False)


async def test_recording_a_violation_is_validated_and_only_store_managers_record(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        gm = await tenant.scope("store_gm@A")
        try:
            await accountability.record_violation(
                actor=gm, staff_user_id=tenant.users["staff@B"], department="parts",
                occurred_on=date(2026, 12, 3), description=" ", kind="gossip",
            )
            raise AssertionError("refused expected")
        except InvalidInput as refused:
            fields = {p.field for p in refused.problems}
        assert fields == {"staff_user_id", "department", "occurred_on", "description", "kind"}
        for who in ("staff@A", "callback_agent@A", "group_admin", "hq_viewer"):
            try:
                await violate(tenant, date(2026, 12, 1), by=who)
                raise AssertionError(f"{who} may not record")
            except Forbidden:
                pass
        # The department head and the customer-relations manager record too (seed 001 §5.2).
        await violate(tenant, date(2026, 12, 1), by="department_head@A", kind="customer_data")
        await violate(tenant, date(2026, 12, 1), by="store_cr_manager@A")
        assert (await row_of(tenant, "2026-12")).violations == 2


async def test_the_month_api_records_shows_and_hides_by_store_and_group(client, tenant, other_tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        gm = await tenant.headers("store_gm@A")
        car = await customer_with_car(tenant, "A")
        cid = await service.create_complaint(
            actor=await tenant.scope("store_cr_manager@A"), customer_id=car.customer_id, channel="walk_in",
            content="客户资料电话号码被改错",
        )
        body = {"staff_user_id": tenant.users["staff@A"], "department": "sales", "occurred_on": "2026-12-02",
                "description": "私自修改客户电话", "kind": "customer_data", "complaint_id": cid}
        r = await client.post(f"{API}/violations", json=body, headers=gm)
        assert r.status_code == 201, r.text
        created = r.json()
        assert (created["step_zh"], created["kind_zh"], created["complaint_id"]) == ("第一次", "客户资料私自更改或错误", cid)
        assert (await client.get(f"{API}/violations/{created['id']}", headers=gm)).json()["id"] == created["id"]

        month = (await client.get(f"{API}/accountability", params={"month": "2026-12"}, headers=gm)).json()
        assert [r["user_id"] for r in month["rows"]] == [tenant.users["staff@A"]] and month["may_record"]
        hq = (await client.get(f"{API}/accountability", params={"month": "2026-12"},
                               headers=await tenant.headers("hq_viewer"))).json()
        assert [v["id"] for v in hq["violations"]] == [created["id"]] and not hq["may_record"]
        store_b = (await client.get(f"{API}/accountability", params={"month": "2026-12"},
                                    headers=await tenant.headers("store_gm@B"))).json()
        assert store_b["rows"] == [] and store_b["violations"] == []
        assert (await client.get(f"{API}/violations/{created['id']}",
                                 headers=await tenant.headers("store_gm@B"))).status_code == 404
        assert (await client.get(f"{API}/accountability", params={"month": "2026-12"},
                                 headers=await tenant.headers("staff@A"))).status_code == 403

        # Another group: 404 on the id, a field error for our staff or complaint, nothing written.
        theirs = await other_tenant.headers("store_gm@A")
        assert (await client.get(f"{API}/violations/{created['id']}", headers=theirs)).status_code == 404
        r = await client.post(f"{API}/violations", json={**body, "complaint_id": None}, headers=theirs)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "staff_user_id"
        r = await client.post(f"{API}/violations", json={**body, "staff_user_id": other_tenant.users["staff@A"]},
                              headers=theirs)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "complaint_id"
        assert (await client.get(f"{API}/accountability/export", params={"month": "2026-12", "store_id": tenant.store_a},
                                 headers=await other_tenant.headers("hq_viewer"))).status_code == 404
        r = await client.post(f"{API}/violations", json={**body, "occurred_on": "2026-12-03"}, headers=gm)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "occurred_on"


async def test_amount_settings_belong_to_the_group_and_are_checked(client, tenant, other_tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        mine, theirs = await tenant.headers("group_admin"), await other_tenant.headers("group_admin")
        defaults = (await client.get(f"{API}/accountability/amounts", headers=mine)).json()["amounts"]
        assert defaults["service"] == {"liable": "50", "not_in_time": "200", "first_violation": "50",
                                       "second_violation": None}
        r = await client.put(f"{API}/accountability/amounts",
                             json={"amounts": {"sales": {"first_violation": "100", "second_violation": "300"}}},
                             headers=theirs)
        assert r.status_code == 200, r.text
        assert (await client.get(f"{API}/accountability/amounts", headers=mine)).json()["amounts"]["sales"][
            "first_violation"] is None
        bad = await client.put(f"{API}/accountability/amounts",
                               json={"amounts": {"sales": {"first_violation": "-1"}}}, headers=mine)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "amounts.sales.first_violation"
        assert (await client.put(f"{API}/accountability/amounts", json={"amounts": {}},
                                 headers=await tenant.headers("store_gm@A"))).status_code == 403


async def test_the_month_exports_to_xlsx_with_chinese_headers_and_the_figures(client, tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        for _ in range(3):
            await violate(tenant, date(2026, 12, 1), "service")
        await violate(tenant, date(2026, 12, 2), "sales", who="department_head@A")
        r = await client.get(f"{API}/accountability/export", params={"month": "2026-12"},
                             headers=await tenant.headers("store_cr_manager@A"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(r.content))
    sheet, details = book.worksheets
    assert sheet.freeze_panes == "A2" and details.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == accountability.EXPORT_HEADERS and rows[0][0] == "员工"
    by_name = {row[0]: row for row in rows[1:]}
    staff = by_name[(await tenant.scope("staff@A")).display_name]
    assert staff[2:8] == (0, 0, 3, "售后服务部第三次（辞退）", "是", 50)
    head = by_name[(await tenant.scope("department_head@A")).display_name]
    assert head[4:7] == (1, "销售部第一次", None)
    assert [row[5] for row in details.iter_rows(min_row=2, values_only=True)] == [
        "第一次", "第二次", "第三次（辞退）", "第一次"
    ]


async def test_the_accountability_page_records_a_violation_and_shows_the_ladder(browser_session, tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        await violate(tenant, date(2026, 12, 1), "service")
        await violate(tenant, date(2026, 12, 1), "service")
        gm = await browser_session(tenant.usernames["store_gm@A"])
        page = await gm.get("/accountability")
        assert page.status_code == 200 and 'value="2026-12"' in page.text and "记录业务流程违规" in page.text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"_csrf_token": token, "staff_user_id": str(tenant.users["staff@A"]), "department": "service",
                "kind": "process", "occurred_on": "2026-12-02", "description": "未按流程回访"}
        done = await gm.post("/accountability/violations", data=form)
        assert done.status_code in (200, 303), done.text
        page = await gm.get("/accountability?month=2026-12")
        assert "售后服务部 第三次（辞退）" in page.text and "tag-danger" in page.text
        refused = await gm.post("/accountability/violations", data={**form, "description": ""})
        assert refused.status_code == 400 and "请填写违规说明" in refused.text
        hq = await browser_session(tenant.usernames["hq_viewer"])
        page = await hq.get("/accountability?month=2026-12")
        assert page.status_code == 200 and "第三次（辞退）" in page.text and "记录业务流程违规" not in page.text
