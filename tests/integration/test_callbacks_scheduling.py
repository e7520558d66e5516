"""Scheduling callbacks from deliveries and service visits: timers, contact windows, edits, cancellations, bulk."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import time_machine

from crm import clock
from crm.calendar.tables import CalendarSetting
from crm.callbacks import scheduling
from crm.callbacks.tables import Callback
from crm.customers.tables import Sale, ServiceVisit
from crm.db import transaction
from tests.support.callbacks import (
    callbacks_of,
    delivered_customer,
    fire_callback_timers,
    make_customer,
    make_vehicle,
    make_visit,
    pending_callback_timers,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


async def test_delivery_plans_four_callbacks_each_with_a_timer(tenant):
    delivered = local(date(2025, 9, 16), 19)  # Tuesday evening
    with time_machine.travel(delivered, tick=False):
        _, _, sale_id = await delivered_customer(tenant, delivered_at=delivered)
        async with transaction():
            ids = await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a,
                                                     sale_id=sale_id)
    callbacks = await callbacks_of("sale", sale_id)
    assert set(callbacks) == {"delivery_care_2h", "delivery_followup_3d", "delivery_care_7d", "runin_reminder"}
    assert len(ids) == 4
    care = callbacks["delivery_care_2h"]
    assert care["due_at"] == local(date(2025, 9, 17), 9)  # 21:00 is quiet: next morning at 09:00
    assert care["state"] == "scheduled" and care["channel"] == "phone"
    assert callbacks["delivery_followup_3d"]["survey"] == "ssi"
    assert callbacks["runin_reminder"]["channel"] == "sms"
    for callback in callbacks.values():
        timers = await pending_callback_timers(callback["id"])
        assert [t["due_at"] for t in timers] == [callback["due_at"]]


async def test_scheduling_twice_creates_nothing_new(tenant):
    _, _, sale_id = await delivered_customer(tenant)
    first = await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    again = await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    assert len(first) == 4 and again == []
    assert await Callback.count().where(Callback.source_type == "sale", Callback.source_id == sale_id) == 4


async def test_timer_firing_puts_the_call_in_the_queue(tenant):
    _, _, sale_id = await delivered_customer(tenant)
    await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    care = (await callbacks_of("sale", sale_id))["delivery_care_2h"]
    assert await fire_callback_timers(care["id"]) == ["fired"]
    assert (await callbacks_of("sale", sale_id))["delivery_care_2h"]["state"] == "due"
    assert (await callbacks_of("sale", sale_id))["delivery_care_7d"]["state"] == "scheduled"


async def test_holiday_and_make_up_saturday_follow_the_store_calendar(tenant):
    await CalendarSetting.insert(CalendarSetting(group=tenant.group_id, store=tenant.store_b,
                                                 contact_on_weekends=False, updated_at=clock.now()))
    # Service visits ending the day before the 3-day callback lands on: 国庆 (holiday), a 调休 Saturday, a plain Saturday.
    cases = [
        (local(date(2025, 10, 2), 15), local(date(2025, 10, 9), 9)),
        (local(date(2025, 10, 10), 15), local(date(2025, 10, 11), 15)),
        (local(date(2025, 10, 17), 15), local(date(2025, 10, 20), 9)),
    ]
    for left_at, expected_due in cases:
        with time_machine.travel(left_at, tick=False):
            customer_id = await make_customer(tenant.group_id, tenant.store_b)
            vehicle_id = await make_vehicle(tenant.group_id, tenant.store_b, customer_id)
            visit_id = await make_visit(tenant.group_id, tenant.store_b, customer_id, vehicle_id, left_at)
            await scheduling.schedule_for_visit(group_id=tenant.group_id, store_id=tenant.store_b, visit_id=visit_id)
        callback = (await callbacks_of("service_visit", visit_id))["service_callback_3d"]
        assert callback["due_at"] == expected_due, left_at
        assert callback["survey"] == "csi"


async def test_next_maintenance_reminder_only_with_a_date(tenant):
    left = clock.now()
    customer_id = await make_customer(tenant.group_id, tenant.store_a)
    vehicle_id = await make_vehicle(tenant.group_id, tenant.store_a, customer_id)
    without = await make_visit(tenant.group_id, tenant.store_a, customer_id, vehicle_id, left)
    with_date = await make_visit(tenant.group_id, tenant.store_a, customer_id, vehicle_id, left,
                                 next_visit_on=(left + timedelta(days=120)).date())
    for visit_id in (without, with_date):
        await scheduling.schedule_for_visit(group_id=tenant.group_id, store_id=tenant.store_a, visit_id=visit_id)
    assert set(await callbacks_of("service_visit", without)) == {"service_callback_3d"}
    assert set(await callbacks_of("service_visit", with_date)) == {"service_callback_3d", "next_maintenance_reminder"}


async def test_edit_moves_untouched_callbacks_and_cancel_cancels_them(tenant):
    _, _, sale_id = await delivered_customer(tenant, delivered_at=clock.now())
    await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    before = await callbacks_of("sale", sale_id)
    later = clock.now() + timedelta(days=2)
    await Sale.update({Sale.delivered_at: later}).where(Sale.id == sale_id)
    await scheduling.reschedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    after = await callbacks_of("sale", sale_id)
    for kind in before:
        assert after[kind]["id"] == before[kind]["id"]
        assert after[kind]["anchor_at"] == later.replace(microsecond=later.microsecond)
        assert after[kind]["due_at"] > before[kind]["due_at"]
        timers = await pending_callback_timers(after[kind]["id"])
        assert [t["due_at"] for t in timers] == [after[kind]["due_at"]]  # the old timer is cancelled

    cancelled = await scheduling.cancel_for_source(source_type="sale", source_id=sale_id)
    assert cancelled == 4
    for callback in (await callbacks_of("sale", sale_id)).values():
        assert callback["state"] == "cancelled"
        assert await pending_callback_timers(callback["id"]) == []


async def test_edit_keeps_worked_callbacks_and_drops_a_removed_reminder(tenant):
    customer_id = await make_customer(tenant.group_id, tenant.store_a)
    vehicle_id = await make_vehicle(tenant.group_id, tenant.store_a, customer_id)
    visit_id = await make_visit(tenant.group_id, tenant.store_a, customer_id, vehicle_id, clock.now(),
                                next_visit_on=(clock.now() + timedelta(days=90)).date())
    await scheduling.schedule_for_visit(group_id=tenant.group_id, store_id=tenant.store_a, visit_id=visit_id)
    callbacks = await callbacks_of("service_visit", visit_id)
    await Callback.update({Callback.attempts: 1}).where(Callback.id == callbacks["service_callback_3d"]["id"])
    await ServiceVisit.update({ServiceVisit.next_visit_on: None, ServiceVisit.left_at: clock.now() + timedelta(hours=5)}
                              ).where(ServiceVisit.id == visit_id)
    await scheduling.reschedule_for_visit(group_id=tenant.group_id, store_id=tenant.store_a, visit_id=visit_id)
    after = await callbacks_of("service_visit", visit_id)
    assert after["service_callback_3d"]["due_at"] == callbacks["service_callback_3d"]["due_at"]
    assert after["next_maintenance_reminder"]["state"] == "cancelled"


async def test_do_not_call_customer_is_skipped_without_timer(tenant):
    _, _, sale_id = await delivered_customer(tenant, do_not_call=True)
    await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    for callback in (await callbacks_of("sale", sale_id)).values():
        assert callback["state"] == "skipped"
        assert await pending_callback_timers(callback["id"]) == []


async def test_customer_turning_do_not_call_later_is_skipped_when_due(tenant):
    from crm.customers.tables import Customer

    customer_id, _, sale_id = await delivered_customer(tenant)
    await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    await Customer.update({Customer.do_not_call: True}).where(Customer.id == customer_id)
    care = (await callbacks_of("sale", sale_id))["delivery_care_2h"]
    await fire_callback_timers(care["id"])
    assert (await callbacks_of("sale", sale_id))["delivery_care_2h"]["state"] == "skipped"


async def test_bulk_import_of_history_schedules_only_what_can_still_be_done(tenant):
    now = clock.now()
    customer_id = await make_customer(tenant.group_id, tenant.store_c)
    vehicle_id = await make_vehicle(tenant.group_id, tenant.store_c, customer_id)
    from tests.support.callbacks import make_sale

    old = await make_sale(tenant.group_id, tenant.store_c, customer_id, vehicle_id, now - timedelta(days=200))
    ten_days = await make_sale(tenant.group_id, tenant.store_c, customer_id, vehicle_id, now - timedelta(days=10))
    fresh = await make_sale(tenant.group_id, tenant.store_c, customer_id, vehicle_id, now - timedelta(minutes=5))
    visit = await make_visit(tenant.group_id, tenant.store_c, customer_id, vehicle_id, now - timedelta(days=1))
    created = await scheduling.schedule_bulk(group_id=tenant.group_id, store_id=tenant.store_c,
                                             sale_ids=[old, ten_days, fresh], visit_ids=[visit])
    assert await callbacks_of("sale", old) == {}
    assert set(await callbacks_of("sale", ten_days)) == {"runin_reminder"}
    assert len(await callbacks_of("sale", fresh)) == 4
    assert set(await callbacks_of("service_visit", visit)) == {"service_callback_3d"}
    assert created == 6
    # Same plans as one at a time, and a second run adds nothing.
    single = (await callbacks_of("sale", fresh))["delivery_followup_3d"]
    assert [t["due_at"] for t in await pending_callback_timers(single["id"])] == [single["due_at"]]
    assert await scheduling.schedule_bulk(group_id=tenant.group_id, store_id=tenant.store_c,
                                          sale_ids=[old, ten_days, fresh], visit_ids=[visit]) == 0
