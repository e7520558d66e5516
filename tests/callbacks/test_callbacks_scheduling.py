"""Scheduling callbacks from deliveries and service visits: timers, contact windows, edits, cancellations, bulk."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine

from crm import clock
from crm.calendar.tables import CalendarSetting
from crm.callbacks import scheduling
from crm.queue import get_queue
from crm.timers.service import horizon, job_id
from crm.callbacks.tables import Callback
from crm.customers import service as customers
from crm.customers.tables import Customer, Sale, ServiceVisit
from crm.db import transaction
from crm.timers.tables import Timer
from tests.support.callbacks import (
    callbacks_of,
    delivered_customer,
    fire_callback_timers,
    make_customer,
    make_sale,
    make_vehicle,
    make_visit,
    pending_callback_timers,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


async def test_recording_a_delivery_plans_four_callbacks_each_with_a_timer(tenant):
    delivered = local(date(2025, 9, 16), 19)  # Tuesday evening
    with time_machine.travel(delivered, tick=False):
        _, _, sale_id = await delivered_customer(tenant, delivered_at=delivered)
    callbacks = await callbacks_of("sale", sale_id)
    assert set(callbacks) == {"delivery_care_2h", "delivery_followup_3d", "delivery_care_7d", "runin_reminder"}
    care = callbacks["delivery_care_2h"]
    assert care["due_at"] == local(date(2025, 9, 17), 9)  # 21:00 is quiet: next morning at 09:00
    assert care["state"] == "scheduled" and care["channel"] == "phone"
    assert callbacks["delivery_followup_3d"]["survey"] == "ssi"
    assert callbacks["runin_reminder"]["channel"] == "sms"
    for callback in callbacks.values():
        timers = await pending_callback_timers(callback["id"])
        assert [t["due_at"] for t in timers] == [callback["due_at"]]


async def test_soon_due_timers_go_to_redis_far_ones_wait_for_the_promoter(tenant):
    _, _, sale_id = await delivered_customer(tenant)
    callbacks = await callbacks_of("sale", sale_id)
    soon = await Timer.select().where(Timer.subject_id == callbacks["delivery_care_2h"]["id"],
                                      Timer.subject_type == "callback").first()
    far = await Timer.select().where(Timer.subject_id == callbacks["runin_reminder"]["id"],
                                     Timer.subject_type == "callback").first()
    assert far["enqueued_at"] is None and far["version"] == 0
    assert soon["due_at"] <= clock.now() + horizon()  # the pinned workday morning: the 2-hour call is due at noon
    assert soon["enqueued_at"] is not None
    assert await (await get_queue()).zscore("arq:queue", job_id(soon["id"], soon["version"])) is not None


async def test_scheduling_again_creates_nothing_new(tenant):
    _, _, sale_id = await delivered_customer(tenant)
    again = await scheduling.schedule_for_sale(group_id=tenant.group_id, store_id=tenant.store_a, sale_id=sale_id)
    assert again == 0
    assert await Callback.count().where(Callback.source_type == "sale", Callback.source_id == sale_id) == 4


async def test_a_failing_delivery_leaves_no_callbacks(tenant):
    customer_id = await make_customer(tenant, tenant.store_a)
    vehicle_id = await make_vehicle(tenant, tenant.store_a, customer_id)

    class Boom(Exception):
        pass

    try:
        async with transaction():
            sale_id = await make_sale(tenant, tenant.store_a, customer_id, vehicle_id, clock.now())
            raise Boom
    except Boom:
        pass
    assert await callbacks_of("sale", sale_id) == {}
    # The next transaction in this task plans its own delivery and nothing of the rolled-back one.
    other = await make_sale(tenant, tenant.store_a, customer_id, vehicle_id, clock.now())
    assert len(await callbacks_of("sale", other)) == 4


async def test_timer_firing_puts_the_call_in_the_queue(tenant):
    _, _, sale_id = await delivered_customer(tenant)
    care = (await callbacks_of("sale", sale_id))["delivery_care_2h"]
    assert await fire_callback_timers(care["id"]) == ["fired"]
    assert (await callbacks_of("sale", sale_id))["delivery_care_2h"]["state"] == "due"
    assert (await callbacks_of("sale", sale_id))["delivery_care_7d"]["state"] == "scheduled"


async def test_holiday_and_make_up_saturday_follow_the_store_calendar(tenant):
    await CalendarSetting.insert(CalendarSetting(group=tenant.group_id, store=tenant.store_b,
                                                 contact_on_weekends=False, updated_at=clock.now()))
    # Visits ending the day before the 3-day callback's earliest time: 国庆 (holiday), a 调休 Saturday, a plain Saturday.
    cases = [
        (local(date(2025, 10, 2), 15), local(date(2025, 10, 9), 9)),
        (local(date(2025, 10, 10), 15), local(date(2025, 10, 11), 15)),
        (local(date(2025, 10, 17), 15), local(date(2025, 10, 20), 9)),
    ]
    for left_at, expected_due in cases:
        with time_machine.travel(left_at + timedelta(minutes=1), tick=False):
            customer_id = await make_customer(tenant, tenant.store_b)
            vehicle_id = await make_vehicle(tenant, tenant.store_b, customer_id)
            visit_id = await make_visit(tenant, tenant.store_b, customer_id, vehicle_id, left_at)
        callback = (await callbacks_of("service_visit", visit_id))["service_callback_3d"]
        assert callback["due_at"] == expected_due, left_at
        assert callback["survey"] == "csi"


async def test_next_maintenance_reminder_only_with_a_date(tenant):
    left = clock.now() - timedelta(minutes=5)
    customer_id = await make_customer(tenant, tenant.store_a)
    vehicle_id = await make_vehicle(tenant, tenant.store_a, customer_id)
    without = await make_visit(tenant, tenant.store_a, customer_id, vehicle_id, left)
    with_date = await make_visit(tenant, tenant.store_a, customer_id, vehicle_id, left,
                                 next_visit_on=(left + timedelta(days=120)).date())
    assert set(await callbacks_of("service_visit", without)) == {"service_callback_3d"}
    assert set(await callbacks_of("service_visit", with_date)) == {"service_callback_3d", "next_maintenance_reminder"}


async def test_editing_a_delivery_moves_its_callbacks_and_cancelling_cancels_them(tenant):
    now = clock.now()
    _, _, sale_id = await delivered_customer(tenant, delivered_at=now - timedelta(hours=1))
    before = await callbacks_of("sale", sale_id)
    staff = await tenant.scope("staff@A")
    await customers.update_sale(actor=staff, sale_id=sale_id, delivered_at=now)
    after = await callbacks_of("sale", sale_id)
    for kind in before:
        assert after[kind]["id"] == before[kind]["id"]
        assert after[kind]["anchor_at"] == now
        assert after[kind]["due_at"] >= before[kind]["due_at"]
        timers = await pending_callback_timers(after[kind]["id"])
        assert [t["due_at"] for t in timers] == [after[kind]["due_at"]]  # the old timer is cancelled

    await customers.cancel_sale(actor=staff, sale_id=sale_id)
    for callback in (await callbacks_of("sale", sale_id)).values():
        assert callback["state"] == "cancelled"
        assert await pending_callback_timers(callback["id"]) == []


async def test_editing_a_visit_keeps_worked_callbacks_and_drops_a_removed_reminder(tenant):
    left = clock.now() - timedelta(hours=2)
    customer_id = await make_customer(tenant, tenant.store_a)
    vehicle_id = await make_vehicle(tenant, tenant.store_a, customer_id)
    visit_id = await make_visit(tenant, tenant.store_a, customer_id, vehicle_id, left,
                                next_visit_on=(left + timedelta(days=90)).date())
    callbacks = await callbacks_of("service_visit", visit_id)
    await Callback.update({Callback.attempts: 1}).where(Callback.id == callbacks["service_callback_3d"]["id"])
    staff = await tenant.scope("staff@A")
    await customers.update_visit(actor=staff, visit_id=visit_id, next_visit_on=None, left_at=left + timedelta(hours=1))
    after = await callbacks_of("service_visit", visit_id)
    assert after["service_callback_3d"]["due_at"] == callbacks["service_callback_3d"]["due_at"]
    assert after["next_maintenance_reminder"]["state"] == "cancelled"
    await customers.cancel_visit(actor=staff, visit_id=visit_id)
    assert (await callbacks_of("service_visit", visit_id))["service_callback_3d"]["state"] == "cancelled"


async def test_do_not_call_customer_is_skipped_without_timer(tenant):
    _, _, sale_id = await delivered_customer(tenant, do_not_call=True)
    for callback in (await callbacks_of("sale", sale_id)).values():
        assert callback["state"] == "skipped"
        assert await pending_callback_timers(callback["id"]) == []


async def test_customer_turning_do_not_call_later_is_skipped_when_due(tenant):
    customer_id, _, sale_id = await delivered_customer(tenant)
    await Customer.update({Customer.do_not_call: True}).where(Customer.id == customer_id)
    care = (await callbacks_of("sale", sale_id))["delivery_care_2h"]
    await fire_callback_timers(care["id"])
    assert (await callbacks_of("sale", sale_id))["delivery_care_2h"]["state"] == "skipped"


async def test_bulk_import_of_history_schedules_only_what_can_still_be_done(tenant):
    now = clock.now()
    customer_id = await make_customer(tenant, tenant.store_c)
    vehicle_id = await make_vehicle(tenant, tenant.store_c, customer_id)
    # Rows written as a DMS bulk load would (no signals): the bulk path plans them.
    rows = [Sale(group=tenant.group_id, store=tenant.store_c, customer=customer_id, vehicle=vehicle_id,
                 delivered_at=at, created_at=now, updated_at=now)
            for at in (now - timedelta(days=200), now - timedelta(days=10), now - timedelta(minutes=5))]
    old, ten_days, fresh = [r["id"] for r in await Sale.insert(*rows).returning(Sale.id)]
    visit = (await ServiceVisit.insert(ServiceVisit(
        group=tenant.group_id, store=tenant.store_c, customer=customer_id, vehicle=vehicle_id,
        left_at=now - timedelta(days=1), created_at=now, updated_at=now)).returning(ServiceVisit.id))[0]["id"]
    created = await scheduling.schedule_bulk(group_id=tenant.group_id, store_id=tenant.store_c,
                                             sale_ids=[old, ten_days, fresh], visit_ids=[visit])
    assert await callbacks_of("sale", old) == {}
    assert set(await callbacks_of("sale", ten_days)) == {"runin_reminder"}
    assert len(await callbacks_of("sale", fresh)) == 4
    assert set(await callbacks_of("service_visit", visit)) == {"service_callback_3d"}
    assert created == 6
    single = (await callbacks_of("sale", fresh))["delivery_followup_3d"]
    assert [t["due_at"] for t in await pending_callback_timers(single["id"])] == [single["due_at"]]
    assert await scheduling.schedule_bulk(group_id=tenant.group_id, store_id=tenant.store_c,
                                          sale_ids=[old, ten_days, fresh], visit_ids=[visit]) == 0


async def test_many_deliveries_in_one_transaction_are_planned_together_before_commit(tenant):
    customer_id = await make_customer(tenant, tenant.store_b)
    vehicle_id = await make_vehicle(tenant, tenant.store_b, customer_id)
    async with transaction():
        sale_ids = [await make_sale(tenant, tenant.store_b, customer_id, vehicle_id, clock.now()) for _ in range(5)]
        assert await Callback.count().where(Callback.source_type == "sale", Callback.source_id.is_in(sale_ids)) == 0
    assert await Callback.count().where(Callback.source_type == "sale", Callback.source_id.is_in(sale_ids)) == 20


async def test_importing_a_year_of_dms_history_plans_only_what_can_still_be_done(tenant):
    """Through the customer records' importer (rows recorded one by one, callbacks planned once before commit)."""
    import csv
    import io

    from crm.customers.importer import import_file
    from tests.support.builders import make_mobile, make_vin

    today = clock.now().astimezone(SHANGHAI).date()
    days_ago = [300, 200, 100, 30, 10, 1]  # a year of history, the last deliveries days ago
    rows = [["客户姓名", "手机", "车架号/VIN", "车型", "交车日期", "订单号", "销售顾问"]]
    for n, age in enumerate(days_ago):
        rows.append([f"客户{n}", make_mobile(), make_vin(), "帕萨特", (today - timedelta(days=age)).isoformat(),
                     f"HIST-{n}", "刘洋"])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    report = await import_file(actor=await tenant.scope("store_cr_manager@A"), store_id=tenant.store_a,
                               filename="交车历史.csv", content=buffer.getvalue().encode())
    assert report.created.sales == len(days_ago)
    planned = {}
    for n, age in enumerate(days_ago):
        sale = await Sale.select(Sale.id).where(Sale.store == tenant.store_a, Sale.order_no == f"HIST-{n}").first()
        planned[age] = set(await callbacks_of("sale", sale["id"]))
    assert planned[300] == planned[200] == planned[100] == planned[30] == set()
    assert planned[10] == {"runin_reminder"}  # 14–21 days after delivery: still ahead
    assert "delivery_followup_3d" in planned[1] and "delivery_care_7d" in planned[1]
