"""Appeals in order (seed 001 §5.1): the accused files an appeal to the department head, who forwards it (or
declines it); only a forwarded appeal reaches the GM. Forwarding and ruling each have a deadline in working
days (group policy, default 1) with a reminder and a miss recorded once. Every test runs at a pinned instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from crm.complaints import service
from crm.complaints.authority import Policy, set_policy
from crm.complaints.tables import ComplaintDeadlineMiss
from crm.notify.tables import Notification
from crm.timers import runner
from crm.timers.tables import Timer
from tests.support.complaints import API, detail, intake, step
from tests.support.web import csrf_of
from tests.support.builders import customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


async def appealed_at(tenant, at: datetime) -> int:
    """A complaint against staff@A, accepted and appealed by them at `at`."""
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(at, tick=False):
        accused = await tenant.scope("staff@A")
        cid = await service.create_complaint(
            actor=await tenant.scope("call_center_agent"), store_id=tenant.store_a, customer_id=car.customer_id,
            channel="hotline_400", content="服务顾问态度差", accused_user_id=accused.user_id,
        )
        await service.accept_complaint(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid)
        await service.file_appeal(actor=accused, complaint_id=cid, reason="当天我不在岗,有排班表为证")
    return cid


async def pending(cid: int) -> dict[str, tuple[int, datetime]]:
    rows = await Timer.select(Timer.id, Timer.kind, Timer.due_at).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.state == "pending"
    )
    return {r["kind"]: (r["id"], r["due_at"]) for r in rows}


async def fire(timer_id: int, at: datetime) -> str:
    with time_machine.travel(at, tick=False):
        return await runner.fire_timer(timer_id)


async def told(cid: int, kind: str) -> set[int]:
    rows = await Notification.select(Notification.recipient).where(
        Notification.kind == kind, Notification.link == f"/complaints/{cid}"
    )
    return {r["recipient"] for r in rows}


async def misses_of(cid: int) -> list[tuple[str, str]]:
    rows = await ComplaintDeadlineMiss.select().where(ComplaintDeadlineMiss.complaint == cid).order_by(
        ComplaintDeadlineMiss.id
    )
    return [(m["kind"], m["responsible_role"]) for m in rows]


async def test_forwarding_is_due_one_working_day_after_filing_reminded_then_missed_once(tenant):
    cid = await appealed_at(tenant, WEDNESDAY_10)
    timers = await pending(cid)
    due = WEDNESDAY_10 + timedelta(days=1)
    assert set(timers) == {"complaint.appeal_forward_due", "complaint.appeal_forward_remind"}
    assert timers["complaint.appeal_forward_due"][1] == due
    assert timers["complaint.appeal_forward_remind"][1] == due - timedelta(hours=2)
    head = (await tenant.scope("department_head@A")).user_id

    remind_id, due_id = timers["complaint.appeal_forward_remind"][0], timers["complaint.appeal_forward_due"][0]
    assert await fire(remind_id, due - timedelta(hours=2, seconds=1)) == "not_due"
    assert await fire(remind_id, due - timedelta(hours=2)) == "fired"
    assert head in await told(cid, "complaint.deadline_near")
    assert await misses_of(cid) == []

    assert await fire(due_id, due - timedelta(seconds=1)) == "not_due"
    assert await fire(due_id, due) == "fired"
    assert await misses_of(cid) == [("appeal_forward", "department_head")]
    assert head in await told(cid, "complaint.deadline_missed")
    assert await fire(due_id, due + timedelta(hours=1)) == "already_fired"
    assert await misses_of(cid) == [("appeal_forward", "department_head")]


async def test_the_ruling_runs_from_forwarding_and_follows_the_group_policy(tenant):
    await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(appeal_ruling_working_days=2))
    cid = await appealed_at(tenant, WEDNESDAY_10)
    forwarded_at = WEDNESDAY_10 + timedelta(hours=3)
    with time_machine.travel(forwarded_at, tick=False):
        await service.forward_appeal(actor=await tenant.scope("department_head@A"), complaint_id=cid, opinion="属实")
    timers = await pending(cid)
    assert set(timers) == {"complaint.appeal_ruling_due", "complaint.appeal_ruling_remind"}
    due = forwarded_at + timedelta(days=2)  # Wednesday 13:00 + 2 working days: Friday 13:00
    assert timers["complaint.appeal_ruling_due"][1] == due
    assert await fire(timers["complaint.appeal_ruling_remind"][0], due - timedelta(hours=2)) == "fired"
    assert (await tenant.scope("store_gm@A")).user_id in await told(cid, "complaint.deadline_near")
    assert await fire(timers["complaint.appeal_ruling_due"][0], due) == "fired"
    assert await misses_of(cid) == [("appeal_ruling", "store_gm")]


async def test_appeal_deadlines_count_working_days_over_holidays_and_make_up_saturdays(tenant):
    # Filed the day before National Day: the holiday runs to 7 October, so forwarding is due on the 8th.
    before_holiday = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    cid = await appealed_at(tenant, before_holiday)
    assert (await pending(cid))["complaint.appeal_forward_due"][1] == datetime(2026, 10, 8, 10, 0, tzinfo=SHANGHAI)
    # Filed on Friday 9 October: Saturday the 10th is a 调休 working day.
    friday = datetime(2026, 10, 9, 16, 0, tzinfo=SHANGHAI)
    cid = await appealed_at(tenant, friday)
    assert (await pending(cid))["complaint.appeal_forward_due"][1] == datetime(2026, 10, 10, 16, 0, tzinfo=SHANGHAI)
    # Filed on a Sunday: the next working day is Monday.
    sunday = datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI)
    cid = await appealed_at(tenant, sunday)
    assert (await pending(cid))["complaint.appeal_forward_due"][1] == datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


async def test_an_appeal_filed_at_night_is_reminded_two_hours_before_its_deadline(tenant):
    # Filed at 02:00: due at 02:00 the next working day; the reminder at midnight is still ahead.
    night = datetime(2026, 12, 2, 2, 0, tzinfo=SHANGHAI)
    cid = await appealed_at(tenant, night)
    timers = await pending(cid)
    assert timers["complaint.appeal_forward_remind"][1] == datetime(2026, 12, 3, 0, 0, tzinfo=SHANGHAI)


async def test_a_ruling_before_forwarding_is_409_with_the_allowed_actions(client, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await intake(client, tenant, car, accused_user_id=tenant.users["staff@A"])
        await step(client, tenant, "store_cr_manager@A", cid, "accept")
        await step(client, tenant, "staff@A", cid, "appeal", {"reason": "不是我接待的"})
        refused = await step(client, tenant, "store_gm@A", cid, "appeal/ruling", {"upheld": True}, expect=409)
        assert refused["state"] == "appealed" and refused["action"] == "rule_appeal"
        assert set(refused["allowed"]) == {"forward_appeal", "decline_appeal", "add_note", "set_urgency"}
        assert (await detail(client, tenant, "hq_viewer", cid))["summary"]["state"] == "appealed"
        await step(client, tenant, "department_head@A", cid, "appeal/forward", {"opinion": "建议裁决"})
        await step(client, tenant, "department_head@A", cid, "appeal/forward", expect=409)
        ruled = await step(client, tenant, "store_gm@A", cid, "appeal/ruling", {"upheld": True, "note": "排班表为证"})
    assert ruled["summary"]["state"] == "voided" and ruled["appeals"][0]["status"] == "upheld"


async def test_the_department_head_declines_and_handling_resumes(client, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await intake(client, tenant, car, accused_user_id=tenant.users["staff@A"])
        await step(client, tenant, "store_cr_manager@A", cid, "accept")
        await step(client, tenant, "store_cr_manager@A", cid, "assign",
                   {"handler_user_id": tenant.users["department_head@A"], "department": "service"})
        await step(client, tenant, "staff@A", cid, "appeal", {"reason": "不是我"})
        await step(client, tenant, "store_gm@A", cid, "appeal/decline", {"opinion": "x"}, expect=403)
        bad = await step(client, tenant, "department_head@A", cid, "appeal/decline", {"opinion": ""}, expect=400)
        assert bad["errors"][0]["field"] == "opinion"
    declined_at = WEDNESDAY_10 + timedelta(hours=1)
    with time_machine.travel(declined_at, tick=False):
        declined = await step(client, tenant, "department_head@A", cid, "appeal/decline", {"opinion": "证据不足,不予提报"})
        assert declined["summary"]["state"] == "assigned" and declined["appeals"][0]["status"] == "declined"
        await step(client, tenant, "store_gm@A", cid, "appeal/ruling", {"upheld": True}, expect=409)
    timers = await pending(cid)
    assert set(timers) == {"complaint.handle_due"}
    assert timers["complaint.handle_due"][1] == declined_at + timedelta(days=1)


async def test_a_second_appeal_in_the_same_cycle_is_missed_on_its_own(tenant):
    cid = await appealed_at(tenant, WEDNESDAY_10)
    first_due = WEDNESDAY_10 + timedelta(days=1)
    assert await fire((await pending(cid))["complaint.appeal_forward_due"][0], first_due) == "fired"
    again = first_due + timedelta(hours=1)
    with time_machine.travel(again, tick=False):
        await service.decline_appeal(actor=await tenant.scope("department_head@A"), complaint_id=cid, opinion="驳回")
        await service.file_appeal(actor=await tenant.scope("staff@A"), complaint_id=cid, reason="补充证据")
    assert await fire((await pending(cid))["complaint.appeal_forward_due"][0], again + timedelta(days=1)) == "fired"
    assert await misses_of(cid) == [("appeal_forward", "department_head")] * 2


async def test_appeal_actions_of_another_group_are_404(client, tenant, other_tenant):
    cid = await appealed_at(tenant, WEDNESDAY_10)
    with time_machine.travel(WEDNESDAY_10, tick=False):
        for path, body in [("appeal/forward", {}), ("appeal/decline", {"opinion": "x"}),
                           ("appeal/ruling", {"upheld": True})]:
            for who in ("department_head@A", "store_gm@A"):
                r = await client.post(f"{API}/{cid}/{path}", json=body, headers=await other_tenant.headers(who))
                assert r.status_code == 404, (path, who, r.text)
    assert (await detail(client, tenant, "hq_viewer", cid))["summary"]["state"] == "appealed"


async def test_the_complaint_page_offers_forward_or_decline_then_the_ruling(browser_session, tenant):
    cid = await appealed_at(tenant, WEDNESDAY_10)
    with time_machine.travel(WEDNESDAY_10 + timedelta(hours=1), tick=False):
        gm = await browser_session(tenant.usernames["store_gm@A"])
        assert "总经理裁决" not in (await gm.get(f"/complaints/{cid}")).text
        head = await browser_session(tenant.usernames["department_head@A"])
        page = await head.get(f"/complaints/{cid}")
        assert "部门主管提报" in page.text and "部门主管驳回申诉" in page.text
        done = await head.post(f"/complaints/{cid}/act/forward_appeal",
                               data={"_csrf_token": csrf_of(page.text), "note": "属实"})
        assert done.status_code in (200, 303), done.text
        page = await gm.get(f"/complaints/{cid}")
        assert "总经理裁决" in page.text and "申诉待总经理裁决" in page.text
