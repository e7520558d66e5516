"""The rules most sensitive to time, checked at each of the suite's named instants (tests/support/clock.py):
a workday morning, a workday 19:30, 02:00, a Sunday, a 调休 working Saturday and the day before 国庆.

The expected times are written out by hand per instant (China time), not computed by the code under test.
Store calendar defaults: open 08:30–18:00 on working days; customers are called 09:00–20:00, on weekends
too, not on public holidays; SMS greetings go out on holidays.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from crm.callbacks import service as callbacks
from crm.callbacks.care import plan_store_care
from crm.complaints import service as complaints
from crm.complaints.tables import Complaint
from crm.major import service as major
from crm.major.rules import MajorReason
from crm.major.tables import MajorComplaint
from crm.timers.tables import Timer
from tests.support.builders import customer_with_car
from tests.support.callbacks import callbacks_of, delivered_customer, make_customer, make_due
from tests.support.clock import INSTANTS, china


def at(day: str, hhmm: str) -> datetime:
    return china(date.fromisoformat(day), time.fromisoformat(hhmm))


# instant → (accept due: 2 working hours after routing, handling due: 1 working day after acceptance)
COMPLAINT_DEADLINES = {
    "workday_morning": (at("2026-12-02", "12:00"), at("2026-12-03", "10:00")),
    "workday_19_30": (at("2026-12-03", "10:30"), at("2026-12-03", "19:30")),
    "night_02_00": (at("2026-12-03", "10:30"), at("2026-12-04", "02:00")),
    "sunday": (at("2026-12-07", "10:30"), at("2026-12-07", "10:00")),
    "makeup_saturday": (at("2026-10-10", "12:00"), at("2026-10-12", "10:00")),
    "before_holiday": (at("2026-09-30", "18:00"), at("2026-10-08", "16:00")),
}

# instant → when a call planned or retried 2 hours later may be made (the next contact window)
TWO_HOURS_LATER_CALL = {
    "workday_morning": at("2026-12-02", "12:00"),
    "workday_19_30": at("2026-12-03", "09:00"),
    "night_02_00": at("2026-12-03", "09:00"),
    "sunday": at("2026-12-06", "12:00"),
    "makeup_saturday": at("2026-10-10", "12:00"),
    "before_holiday": at("2026-09-30", "18:00"),
}

# instant → the birthday greeting for a birthday the next day
NEXT_DAY_BIRTHDAY_GREETING = {
    "workday_morning": at("2026-12-03", "09:00"),
    "workday_19_30": at("2026-12-03", "09:00"),
    "night_02_00": at("2026-12-04", "09:00"),
    "sunday": at("2026-12-07", "09:00"),
    "makeup_saturday": at("2026-10-11", "09:00"),
    "before_holiday": at("2026-10-01", "09:00"),  # 国庆: greetings go out on holidays
}

instants = pytest.mark.parametrize("name", list(INSTANTS))


@instants
async def test_acceptance_and_handling_deadlines(tenant, name):
    car = await customer_with_car(tenant, "A")
    accept_due, handle_due = COMPLAINT_DEADLINES[name]
    with time_machine.travel(INSTANTS[name], tick=False):
        cid = await complaints.create_complaint(
            actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
            vehicle_id=car.vehicle_id, channel="hotline_400", content="提车时发现划痕",
        )
        assert await _due(cid) == ("accept", accept_due)
        await complaints.accept_complaint(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid)
        assert await _due(cid) == ("handle", handle_due)


@instants
async def test_delivery_care_call_waits_for_the_contact_window(tenant, name):
    with time_machine.travel(INSTANTS[name], tick=False):
        _, _, sale_id = await delivered_customer(tenant)
        care = (await callbacks_of("sale", sale_id))["delivery_care_2h"]
    assert care["due_at"] == TWO_HOURS_LATER_CALL[name]


@instants
async def test_no_answer_is_retried_in_the_next_contact_window(tenant, name):
    with time_machine.travel(INSTANTS[name] - timedelta(days=1), tick=False):
        callback_id = await make_due(tenant)
    with time_machine.travel(INSTANTS[name], tick=False):
        result = await callbacks.record_outcome(
            actor=await tenant.scope("callback_agent@A"), callback_id=callback_id, outcome="no_answer"
        )
    assert (result.state, result.next_due_at) == ("scheduled", TWO_HOURS_LATER_CALL[name])


@instants
async def test_birthday_greeting_is_planned_for_the_morning_of_the_day(tenant, name):
    tomorrow = INSTANTS[name].date() + timedelta(days=1)
    customer_id = await make_customer(tenant, tenant.store_a, birthday=tomorrow.replace(year=1988))
    with time_machine.travel(INSTANTS[name], tick=False):
        await plan_store_care(group_id=tenant.group_id, store_id=tenant.store_a, enqueue=False)
    greetings = await callbacks_of("customer", customer_id)
    assert greetings["birthday_greeting"]["due_at"] == NEXT_DAY_BIRTHDAY_GREETING[name]


@instants
async def test_major_report_is_due_24_clock_hours_later_and_escalates_then(tenant, name):
    """24 hours on the clock (seed 004 #10 §2.5), nights and holidays included."""
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(INSTANTS[name], tick=False):
        cid = await complaints.create_complaint(
            actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
            vehicle_id=car.vehicle_id, channel="hotline_400", content="客户堵门",
        )
        major_id = await major.mark_major(actor=await tenant.scope("store_gm@A"), complaint_id=cid,
                                          reasons=[major.ReasonInput(MajorReason.BLOCKING_GATE)])
    row = await MajorComplaint.select(MajorComplaint.report_due_at).where(MajorComplaint.id == major_id).first()
    assert row["report_due_at"] == INSTANTS[name] + timedelta(hours=24)
    escalation = await Timer.select(Timer.due_at).where(
        Timer.subject_type == "major_complaint", Timer.subject_id == major_id, Timer.kind == "major.report_missing",
        Timer.state == "pending",
    )
    assert [t["due_at"] for t in escalation] == [INSTANTS[name] + timedelta(hours=24)]


async def _due(cid: int) -> tuple[str, datetime]:
    row = await Complaint.select(Complaint.due_kind, Complaint.due_at).where(Complaint.id == cid).first()
    return row["due_kind"], row["due_at"]

