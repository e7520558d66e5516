"""Complaint deadlines are timers: created, moved and cancelled by state changes, and fired by the
timers mechanism (time travel, no sleeping)."""

from __future__ import annotations

from tests.support.complaints import take, to_countermeasure

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from crm import clock
from crm.calendar.service import calendar_for_store
from crm.complaints import accountability, queries, service
from crm.complaints.authority import Policy, set_policy
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss, ComplaintEvent
from crm.notify.tables import Notification
from crm.timers import runner
from crm.timers.tables import Timer
from tests.support.builders import customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday without holidays, 10:00 in Shanghai.
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


async def timers_of(cid: int) -> list[tuple[str, str, int | None, datetime]]:
    rows = await Timer.select(Timer.kind, Timer.state, Timer.store, Timer.due_at).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid
    ).order_by(Timer.id)
    return [(r["kind"], r["state"], r["store"], r["due_at"]) for r in rows]


async def pending(cid: int) -> list[tuple[str, int | None, datetime]]:
    return [(kind, store, due) for kind, state, store, due in await timers_of(cid) if state == "pending"]


async def test_timers_follow_the_state(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        cid = await take(tenant, car)
        noon = WEDNESDAY_10.replace(hour=12)
        assert await pending(cid) == [("complaint.accept_due", tenant.store_a, noon)]

        # Re-routing moves the acceptance deadline to the new store.
        traveller.shift(timedelta(minutes=30))
        await service.reroute_complaint(actor=await tenant.scope("call_center_agent"), complaint_id=cid,
                                        store_id=tenant.store_b)
        assert await pending(cid) == [("complaint.accept_due", tenant.store_b, noon + timedelta(minutes=30))]
        assert [t[:3] for t in await timers_of(cid)] == [
            ("complaint.accept_due", "cancelled", tenant.store_a),
            ("complaint.accept_due", "pending", tenant.store_b),
        ]

        # Accepting ends it and starts the handling deadline (one working day to the countermeasure);
        # assigning and analysing do not move it.
        cr = await tenant.scope("store_cr_manager@B")
        head = await tenant.scope("department_head@B")
        await service.accept_complaint(actor=cr, complaint_id=cid)
        accepted = clock.now()
        handle_due = ("complaint.handle_due", tenant.store_b, accepted + timedelta(days=1))  # Wed → Thu
        assert await pending(cid) == [handle_due]
        traveller.shift(timedelta(minutes=10))
        await service.assign_handler(actor=cr, complaint_id=cid, handler_user_id=head.user_id, department="sales")
        await service.record_cause(actor=head, complaint_id=cid, cause_category="service", department="sales",
                                   liability="not_liable")
        assert await pending(cid) == [handle_due]

        # The handling deadline runs until the handling is complete: recording or revising the
        # countermeasure does not move it.
        traveller.shift(timedelta(hours=1))
        await service.record_countermeasure(actor=head, complaint_id=cid, countermeasure="重新喷漆")
        assert await pending(cid) == [handle_due]
        traveller.shift(timedelta(hours=2))
        await service.record_countermeasure(actor=head, complaint_id=cid, countermeasure="重新喷漆并赠送保养")
        assert await pending(cid) == [handle_due]

        # Resolution: the store owes the group its feedback within 24 h (the result report runs on its own
        # clock, crm.complaints.result_report).
        await service.resolve_complaint(actor=head, complaint_id=cid, resolution="已喷漆", improvement_measures="PDI加检")
        resolved = clock.now()
        assert await pending(cid) == [("complaint.feedback_due", tenant.store_b, resolved + timedelta(hours=24))]

        # Feedback: the group revisits within 3 days.
        traveller.shift(timedelta(hours=5))
        await service.feed_back_to_group(actor=cr, complaint_id=cid)
        fed_back = clock.now()
        assert await pending(cid) == [("complaint.revisit_due", tenant.store_b, fed_back + timedelta(days=3))]

        # Not satisfied: reopened at the store, which owes a new countermeasure within a working day.
        await service.record_revisit(actor=await tenant.scope("group_customer_service"), complaint_id=cid,
                                     satisfied=False)
        reopened = clock.now()
        assert await pending(cid) == [("complaint.handle_due", tenant.store_b, reopened + timedelta(days=1))]
        await service.record_cause(actor=head, complaint_id=cid, cause_category="product", department="sales",
                                   liability="not_liable")
        traveller.shift(timedelta(hours=1))
        await service.record_countermeasure(actor=head, complaint_id=cid, countermeasure="更换车门")
        assert await pending(cid) == [("complaint.handle_due", tenant.store_b, reopened + timedelta(days=1))]

    states = [state for _, state, _, _ in await timers_of(cid)]
    assert states == ["cancelled"] * 5 + ["pending"]
    complaint = await Complaint.select(Complaint.due_kind, Complaint.due_at).where(Complaint.id == cid).first()
    assert (complaint["due_kind"], complaint["due_at"]) == ("handle", reopened + timedelta(days=1))


async def test_acceptance_counts_working_hours_and_the_group_policy(tenant):
    car = await customer_with_car(tenant, "A")
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    with time_machine.travel(friday_5pm, tick=False):
        cid = await take(tenant, car)
        calendar = await calendar_for_store(tenant.store_a)
        monday = calendar.add_working_hours(friday_5pm, 2)
        assert monday.astimezone(SHANGHAI).weekday() == 0
        assert await pending(cid) == [("complaint.accept_due", tenant.store_a, monday)]

        await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(accept_working_hours=4))
        later = await take(tenant, car)
        assert await pending(later) == [("complaint.accept_due", tenant.store_a, calendar.add_working_hours(friday_5pm, 4))]


async def test_a_missed_acceptance_fires_once_records_and_notifies(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await take(tenant, car)
        on_time = await take(tenant, car)
        await service.accept_complaint(actor=await tenant.scope("store_cr_manager@A"), complaint_id=on_time)
    timer_id = (await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.state == "pending"
    ).first())["id"]
    cancelled_id = (await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint", Timer.subject_id == on_time
    ).first())["id"]

    with time_machine.travel(WEDNESDAY_10.replace(hour=11, minute=59), tick=False):
        assert await runner.fire_timer(timer_id) == "not_due"
    with time_machine.travel(WEDNESDAY_10.replace(hour=12, minute=1), tick=False):
        assert await runner.fire_timer(timer_id) == "fired"
        assert await runner.fire_timer(timer_id) == "already_fired"
        assert await runner.fire_timer(cancelled_id) == "already_cancelled"

    misses = await ComplaintDeadlineMiss.select().where(ComplaintDeadlineMiss.complaint == cid)
    assert [(m["kind"], m["store"], m["handler_user"]) for m in misses] == [("accept", tenant.store_a, None)]
    assert await ComplaintDeadlineMiss.count().where(ComplaintDeadlineMiss.complaint == on_time) == 0
    event = await ComplaintEvent.select().where(ComplaintEvent.complaint == cid).order_by(
        ComplaintEvent.id, ascending=False
    ).first()
    assert (event["action"], event["actor_user"]) == ("deadline_missed", None)
    told = await Notification.select(Notification.recipient).where(
        Notification.kind == "complaint.deadline_missed", Notification.link == f"/complaints/{cid}"
    )
    assert {r["recipient"] for r in told} == {tenant.users["store_cr_manager@A"]}

    # Overdue complaints lead the store's inbox and count against the store.
    inbox = (await queries.list_complaints(actor=await tenant.scope("store_cr_manager@A"))).items
    assert inbox[0].id == cid and inbox[0].overdue
    stats = await queries.deadline_stats(
        actor=await tenant.scope("hq_viewer"), since=WEDNESDAY_10, until=WEDNESDAY_10 + timedelta(days=400)
    )
    store_a = next(s for s in stats if s.store_id == tenant.store_a)
    assert store_a.missed == {"accept": 1}


async def test_a_missed_result_report_counts_against_the_handler(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await take(tenant, car)
        await to_countermeasure(tenant, cid)
    timer_id = (await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.state == "pending"
    ).first())["id"]
    with time_machine.travel(WEDNESDAY_10 + timedelta(days=1, minutes=1), tick=False):
        assert await runner.fire_timer(timer_id) == "fired"
        rows = await accountability.staff_accountability(actor=await tenant.scope("store_gm@A"), month="2026-11")
    handler = next(r for r in rows if r.user_id == tenant.users["department_head@A"])
    assert (handler.missed_deadlines, handler.liable_complaints) == (1, 0)
    told = await Notification.select(Notification.recipient).where(
        Notification.kind == "complaint.deadline_missed", Notification.link == f"/complaints/{cid}"
    )
    assert tenant.users["department_head@A"] in {r["recipient"] for r in told}


async def fire_pending(cid: int, at: datetime) -> str:
    """Travel to `at` and fire the complaint's pending timer through the timers' own path."""
    timer_id = (await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.state == "pending"
    ).first())["id"]
    with time_machine.travel(at, tick=False):
        return await runner.fire_timer(timer_id)


async def misses_of(cid: int) -> list[tuple[str, str, int | None]]:
    rows = await ComplaintDeadlineMiss.select().where(ComplaintDeadlineMiss.complaint == cid).order_by(
        ComplaintDeadlineMiss.id
    )
    return [(m["kind"], m["responsible_role"], m["handler_user"]) for m in rows]


async def told_about(cid: int) -> set[int]:
    rows = await Notification.select(Notification.recipient).where(
        Notification.kind == "complaint.deadline_missed", Notification.link == f"/complaints/{cid}"
    )
    return {r["recipient"] for r in rows}


async def resolved_on_wednesday(tenant) -> int:
    """A call-center complaint the store handled and resolved on Wednesday at 10:00."""
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await take(tenant, car)
        await to_countermeasure(tenant, cid)
        await service.resolve_complaint(actor=await tenant.scope("department_head@A"), complaint_id=cid,
                                        resolution="已喷漆", improvement_measures="PDI加检")
    return cid


async def test_a_store_that_never_handles_is_overdue_against_the_handler(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        cid = await take(tenant, car)
        cr, head = await tenant.scope("store_cr_manager@A"), await tenant.scope("department_head@A")
        await service.accept_complaint(actor=cr, complaint_id=cid)
        await service.assign_handler(actor=cr, complaint_id=cid, handler_user_id=head.user_id, department="sales")
    assert await pending(cid) == [("complaint.handle_due", tenant.store_a, WEDNESDAY_10 + timedelta(days=1))]
    assert await fire_pending(cid, WEDNESDAY_10 + timedelta(hours=23)) == "not_due"
    assert await fire_pending(cid, WEDNESDAY_10 + timedelta(days=1, minutes=1)) == "fired"
    assert await misses_of(cid) == [("handle", "department_head", head.user_id)]
    assert {head.user_id, cr.user_id} <= await told_about(cid)
    rows = await accountability.staff_accountability(actor=await tenant.scope("store_gm@A"), month="2026-11")
    assert next(r for r in rows if r.user_id == head.user_id).missed_deadlines == 1


async def test_handling_counts_working_days_and_the_group_policy(tenant):
    car = await customer_with_car(tenant, "A")
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(handle_working_days=2))
    with time_machine.travel(friday_5pm, tick=False):
        cid = await take(tenant, car)
        await service.accept_complaint(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid)
    # Two working days after a Friday: Tuesday, same time.
    assert await pending(cid) == [("complaint.handle_due", tenant.store_a, friday_5pm + timedelta(days=4))]


async def test_a_reopened_complaint_ignored_by_the_store_is_overdue(tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        cid = await take(tenant, car, who="store_cr_manager@A")  # a walk-in: accepted on registration
        cr, head = await tenant.scope("store_cr_manager@A"), await tenant.scope("department_head@A")
        await service.assign_handler(actor=cr, complaint_id=cid, handler_user_id=head.user_id, department="sales")
        await service.record_cause(actor=head, complaint_id=cid, cause_category="service", department="sales",
                                   liability="liable")
        await service.record_countermeasure(actor=head, complaint_id=cid, countermeasure="重新喷漆")
        await service.resolve_complaint(actor=head, complaint_id=cid, resolution="已喷漆", improvement_measures="PDI加检")
        await service.record_revisit(actor=await tenant.scope("callback_agent@A"), complaint_id=cid, satisfied=True)
        await service.close_complaint(actor=cr, complaint_id=cid)
        traveller.shift(timedelta(hours=2))
        await service.reopen_complaint(actor=cr, complaint_id=cid, reason="客户再次来电,漆面仍有色差")
    reopened = WEDNESDAY_10 + timedelta(hours=2)
    assert await pending(cid) == [("complaint.handle_due", tenant.store_a, reopened + timedelta(days=1))]
    assert await fire_pending(cid, reopened + timedelta(days=1, minutes=1)) == "fired"
    assert await misses_of(cid) == [("handle", "department_head", head.user_id)]


async def test_an_appeal_pauses_handling_and_a_rejected_one_restarts_the_day(tenant):
    car = await customer_with_car(tenant, "A")
    accused = await tenant.scope("staff@A")
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        cid = await take(tenant, car, accused_user_id=accused.user_id)
        cr = await tenant.scope("store_cr_manager@A")
        await service.accept_complaint(actor=cr, complaint_id=cid)
        await service.file_appeal(actor=accused, complaint_id=cid, reason="当时已按流程解释,客户误解")
        assert [kind for kind, *_ in await pending(cid)] == ["complaint.appeal_forward_due",
                                                              "complaint.appeal_forward_remind"]
        await service.forward_appeal(actor=await tenant.scope("department_head@A"), complaint_id=cid)
        traveller.shift(timedelta(days=2))
        await service.rule_appeal(actor=await tenant.scope("store_gm@A"), complaint_id=cid, upheld=False)
        ruled = clock.now()
    # Ruled on Friday: one working day later is Monday.
    assert await pending(cid) == [("complaint.handle_due", tenant.store_a, ruled + timedelta(days=3))]


async def test_a_missed_feedback_to_the_group_fires_against_the_store(tenant):
    cid = await resolved_on_wednesday(tenant)
    assert await pending(cid) == [("complaint.feedback_due", tenant.store_a, WEDNESDAY_10 + timedelta(hours=24))]
    assert await fire_pending(cid, WEDNESDAY_10 + timedelta(hours=23, minutes=59)) == "not_due"
    assert await fire_pending(cid, WEDNESDAY_10 + timedelta(hours=24, minutes=1)) == "fired"
    assert await misses_of(cid) == [("feedback", "store_cr_manager", None)]
    assert tenant.users["store_cr_manager@A"] in await told_about(cid)
    stats = await queries.deadline_stats(
        actor=await tenant.scope("hq_viewer"), since=WEDNESDAY_10, until=WEDNESDAY_10 + timedelta(days=400)
    )
    store_a = next(s for s in stats if s.store_id == tenant.store_a)
    assert store_a.missed.get("feedback") == 1


async def test_a_missed_group_revisit_counts_against_the_group_not_the_store(tenant):
    cid = await resolved_on_wednesday(tenant)
    with time_machine.travel(WEDNESDAY_10, tick=False):
        await service.feed_back_to_group(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid)
    due_at = WEDNESDAY_10 + timedelta(days=3)
    assert await pending(cid) == [("complaint.revisit_due", tenant.store_a, due_at)]
    assert await fire_pending(cid, due_at - timedelta(minutes=1)) == "not_due"
    assert await fire_pending(cid, due_at + timedelta(minutes=1)) == "fired"
    assert await misses_of(cid) == [("revisit", "group_customer_service", None)]
    assert tenant.users["group_customer_service"] in await told_about(cid)
    with time_machine.travel(due_at + timedelta(minutes=2), tick=False):
        stats = await queries.deadline_stats(
            actor=await tenant.scope("hq_viewer"), since=WEDNESDAY_10, until=due_at + timedelta(days=1)
        )
    store_a = next(s for s in stats if s.store_id == tenant.store_a)
    assert "revisit" not in store_a.missed
    assert store_a.group_missed == {"revisit": 1} and store_a.group_missed_total == 1
