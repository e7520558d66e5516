"""The result report after handling (seed 001 §5.1 处理完毕后1天内将处理结果回复给客关部,并提交改善措施;
客关部对处理结果进行检核): its own clock from completion, a miss counted once against the handler, the CR
department's check (accept / send back), through the service, the API and the web page. Clocks pinned."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from crm.complaints import service, timer_handlers
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss, ComplaintEvent, ComplaintResultReport
from crm.notify.tables import Notification
from crm.timers import runner
from crm.timers.registry import FiredTimer
from crm.timers.tables import Timer
from tests.support.complaints import take, to_countermeasure
from tests.support.complaints import API, detail, handle_to_resolved, intake, step
from tests.support.complaints import act
from tests.support.builders import customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
FRIDAY_1930 = datetime(2026, 12, 4, 19, 30, tzinfo=SHANGHAI)


async def report_timers(cid: int) -> list[tuple[str, str, datetime]]:
    rows = await Timer.select(Timer.kind, Timer.state, Timer.due_at, Timer.id).where(
        Timer.subject_type == "complaint_report", Timer.subject_id == cid
    ).order_by(Timer.id)
    return [(r["kind"], r["state"], r["due_at"]) for r in rows]


async def pending_report_timer(cid: int) -> int:
    row = await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint_report", Timer.subject_id == cid, Timer.state == "pending"
    ).first()
    return row["id"]


async def resolved(tenant, car) -> int:
    cid = await take(tenant, car)
    await to_countermeasure(tenant, cid)
    await service.resolve_complaint(actor=await tenant.scope("department_head@A"), complaint_id=cid,
                                    resolution="已重新喷漆,客户认可")
    return cid


async def report_misses(cid: int) -> list[dict]:
    return await ComplaintDeadlineMiss.select(
        ComplaintDeadlineMiss.kind, ComplaintDeadlineMiss.handler_user, ComplaintDeadlineMiss.responsible_role,
        ComplaintDeadlineMiss.due_at,
    ).where(ComplaintDeadlineMiss.complaint == cid, ComplaintDeadlineMiss.kind == "report")


async def test_report_is_due_exactly_one_day_after_completion_and_a_miss_counts_once(tenant):
    car = await customer_with_car(tenant, "A")
    head = await tenant.scope("department_head@A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        late = await resolved(tenant, car)
        on_time = await resolved(tenant, car)
    due = WEDNESDAY_10 + timedelta(days=1)  # Thursday 10:00
    row = await Complaint.select(Complaint.report_state, Complaint.report_due_at, Complaint.due_kind).where(
        Complaint.id == late
    ).first()
    assert (row["report_state"], row["report_due_at"]) == ("due", due)
    # The group feedback (24 h) keeps running as the complaint's own deadline beside the report.
    assert row["due_kind"] == "feedback"
    assert await report_timers(late) == [("complaint.report_due", "pending", due)]

    # One minute before: the report reaches the CR department in time; its clock stops, nothing is missed.
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        await service.submit_result_report(actor=head, complaint_id=on_time, result="已喷漆",
                                           improvement_measures="PDI增加漆面检查")
        assert await runner.fire_timer(await pending_report_timer(late)) == "not_due"
    assert [t[1] for t in await report_timers(on_time)] == ["cancelled"]
    assert await report_misses(on_time) == []

    # One minute after: missed, recorded once against the handler (the department head), and told.
    timer_id = await pending_report_timer(late)
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert await runner.fire_timer(timer_id) == "fired"
        assert await runner.fire_timer(timer_id) == "already_fired"
        await timer_handlers.report_overdue(  # a second delivery of the same timer
            FiredTimer(id=timer_id, kind="complaint.report_due", group_id=tenant.group_id,
                              store_id=tenant.store_a, subject_type="complaint_report", subject_id=late,
                              payload={"cycle": 0}, due_at=due)
        )
    assert await report_misses(late) == [
        {"kind": "report", "handler_user": head.user_id, "responsible_role": "department_head", "due_at": due}
    ]
    told = await Notification.select(Notification.recipient).where(
        Notification.kind == "complaint.deadline_missed", Notification.link == f"/complaints/{late}"
    )
    assert head.user_id in {r["recipient"] for r in told}

    # Submitted late, sent back, and redone late again: still one miss for this handling cycle.
    cr = await tenant.scope("store_cr_manager@A")
    with time_machine.travel(due + timedelta(hours=1), tick=False):
        await service.submit_result_report(actor=head, complaint_id=late, result="已喷漆", improvement_measures="加检")
        await service.check_result_report(actor=cr, complaint_id=late, accepted=False, note="改善措施不具体")
    with time_machine.travel(due + timedelta(days=3), tick=False):
        assert await runner.fire_timer(await pending_report_timer(late)) == "fired"
    assert len(await report_misses(late)) == 1
    # The handling itself was on time: no handling miss either.
    assert await ComplaintDeadlineMiss.count().where(
        ComplaintDeadlineMiss.complaint.is_in([late, on_time]), ComplaintDeadlineMiss.kind == "handle"
    ) == 0


async def test_report_counts_working_days_from_a_friday_evening_completion(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(FRIDAY_1930, tick=False):
        cid = await resolved(tenant, car)
    row = await Complaint.select(Complaint.report_due_at).where(Complaint.id == cid).first()
    assert row["report_due_at"] == datetime(2026, 12, 7, 19, 30, tzinfo=SHANGHAI)  # Monday, not Saturday


async def test_send_back_restarts_the_clock_and_accept_ends_it(tenant):
    car = await customer_with_car(tenant, "A")
    head, cr = await tenant.scope("department_head@A"), await tenant.scope("store_cr_manager@A")
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        cid = await resolved(tenant, car)
        traveller.shift(timedelta(hours=2))
        first = await service.submit_result_report(actor=head, complaint_id=cid, result="已喷漆",
                                                   improvement_measures="加检")
        traveller.shift(timedelta(hours=3))  # Wednesday 15:00
        returned_at = WEDNESDAY_10 + timedelta(hours=5)
        await service.check_result_report(actor=cr, complaint_id=cid, accepted=False, note="改善措施不具体")
        row = await Complaint.select(Complaint.report_state, Complaint.report_due_at).where(Complaint.id == cid).first()
        # The redo gets the same time as the first report: one working day from the return.
        assert (row["report_state"], row["report_due_at"]) == ("returned", returned_at + timedelta(days=1))
        assert (await report_timers(cid))[-1] == ("complaint.report_due", "pending", returned_at + timedelta(days=1))

        traveller.shift(timedelta(hours=1))
        second = await service.submit_result_report(actor=head, complaint_id=cid, result="已喷漆并回访",
                                                    improvement_measures="交车前增加漆面灯检,班组长签字")
        await service.check_result_report(actor=cr, complaint_id=cid, accepted=True)
    row = await Complaint.select(Complaint.report_state, Complaint.report_due_at,
                                 Complaint.improvement_measures).where(Complaint.id == cid).first()
    assert row == {"report_state": "accepted", "report_due_at": None,
                   "improvement_measures": "交车前增加漆面灯检,班组长签字"}
    assert [t[1] for t in await report_timers(cid)] == ["cancelled"] * 2
    reports = await ComplaintResultReport.select(
        ComplaintResultReport.id, ComplaintResultReport.status, ComplaintResultReport.check_note
    ).order_by(ComplaintResultReport.id).where(ComplaintResultReport.complaint == cid)
    assert reports == [{"id": first, "status": "returned", "check_note": "改善措施不具体"},
                       {"id": second, "status": "accepted", "check_note": ""}]
    events = await ComplaintEvent.select(ComplaintEvent.action, ComplaintEvent.data).where(
        ComplaintEvent.complaint == cid, ComplaintEvent.action.is_in(["submit_report", "check_report"])
    ).order_by(ComplaintEvent.id).output(load_json=True)
    assert [(e["action"], e["data"].get("accepted")) for e in events] == [
        ("submit_report", None), ("check_report", False), ("submit_report", None), ("check_report", True)
    ]
    assert await report_misses(cid) == []


async def test_reopening_drops_the_owed_report_of_the_last_cycle(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await take(tenant, car, who="store_cr_manager@A")
        await service.assign_handler(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid,
                                     handler_user_id=(await tenant.scope("department_head@A")).user_id,
                                     department="sales")
        head = await tenant.scope("department_head@A")
        await service.record_cause(actor=head, complaint_id=cid, cause_category="service", department="sales",
                                   liability="liable")
        await service.record_countermeasure(actor=head, complaint_id=cid, countermeasure="重新喷漆")
        await service.resolve_complaint(actor=head, complaint_id=cid, resolution="已喷漆")
        await service.record_revisit(actor=await tenant.scope("callback_agent@A"), complaint_id=cid, satisfied=False)
    row = await Complaint.select(Complaint.report_state, Complaint.report_due_at).where(Complaint.id == cid).first()
    assert row == {"report_state": "", "report_due_at": None}
    assert [t[1] for t in await report_timers(cid)] == ["cancelled"]


async def test_report_api_who_may_and_field_errors(client, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await intake(client, tenant, car)
        # Not yet complete: no report can be submitted.
        refused = await step(client, tenant, "department_head@A", cid, "report",
                             {"result": "r", "improvement_measures": "m"}, expect=409)
        assert refused["action"] == "submit_report"
        await step(client, tenant, "store_cr_manager@A", cid, "accept")
        done = await handle_to_resolved(client, tenant, cid)
        assert done["report_state"] == "due" and "submit_report" in done["actions"]  # the viewer: the handler

        # The CR department checks; it does not write the department's report.
        await step(client, tenant, "store_cr_manager@A", cid, "report",
                   {"result": "r", "improvement_measures": "m"}, expect=403)
        blank = await client.post(f"{API}/{cid}/report", json={"result": " ", "improvement_measures": " "},
                                  headers=await tenant.headers("department_head@A"))
        assert blank.status_code == 400
        problems = {p["field"]: p for p in blank.json()["errors"]}
        assert set(problems) == {"result", "improvement_measures"}
        assert problems["improvement_measures"]["message_zh"] == "请填写改善措施"
        assert problems["improvement_measures"]["message_en"] == "Improvement measures are required"

        sent = await step(client, tenant, "department_head@A", cid, "report",
                          {"result": "已免费更换皮带", "improvement_measures": "全员培训交车解释流程"})
        assert sent["report_state"] == "submitted" and sent["report_due_at"] is None
        await step(client, tenant, "department_head@A", cid, "report/check", {"accepted": True}, expect=403)
        no_reason = await client.post(f"{API}/{cid}/report/check", json={"accepted": False},
                                      headers=await tenant.headers("store_cr_manager@A"))
        assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "note"
        back = await step(client, tenant, "store_cr_manager@A", cid, "report/check",
                          {"accepted": False, "note": "请补充改善责任人"})
        assert back["report_state"] == "returned"
        assert back["result_reports"][0]["status"] == "returned"
        assert (await detail(client, tenant, "department_head@A", cid))["actions"].count("submit_report") == 1


async def test_report_and_check_from_the_complaint_page(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    head = await tenant.scope("department_head@A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await resolved(tenant, car)
        dept = await browser_session(tenant.usernames["department_head@A"])
        page = await dept.get(f"/complaints/{cid}")
        assert 'id="act-submit_report"' in page.text and "待提交处理结果报告" in page.text
        empty = await act(dept, cid, "submit_report", result="已喷漆", improvement_measures="")
        assert empty.status_code == 400 and "请填写改善措施" in empty.text
        sent = await act(dept, cid, "submit_report", result="已喷漆", improvement_measures="PDI增加漆面检查")
        assert sent.status_code == 303

        manager = await browser_session(tenant.usernames["store_cr_manager@A"])
        page = await manager.get(f"/complaints/{cid}")
        assert 'id="act-check_report"' in page.text and "PDI增加漆面检查" in page.text
        no_reason = await act(manager, cid, "check_report", accepted="no")
        assert no_reason.status_code == 400 and "退回须填写原因" in no_reason.text
        back = await act(manager, cid, "check_report", accepted="no", note="改善措施须写明责任人")
        assert back.status_code == 303
        twice = await act(manager, cid, "check_report", accepted="yes")
        assert twice.status_code == 409
    row = await Complaint.select(Complaint.report_state).where(Complaint.id == cid).first()
    assert row["report_state"] == "returned"
    assert head.user_id in {
        r["recipient"] for r in await Notification.select(Notification.recipient).where(
            Notification.kind == "complaint.report_returned"
        )
    }
