"""Builders for callback tests: customer records written straight into their tables, and timer firing."""

from __future__ import annotations

import itertools
import random
import string
from datetime import date, datetime, timedelta

import time_machine

import crm.callbacks.timer_handlers  # noqa: F401  (registers the callback.due handler in this process)
from crm import clock
from crm.callbacks.tables import Callback
from crm.customers.tables import Customer, CustomerIdentity, Sale, ServiceVisit, Vehicle
from crm.timers import runner
from crm.timers.tables import Timer

_serial = itertools.count(1)


async def make_customer(
    group_id: int, store_id: int, *, name: str = "张伟", gender: str = "male", mobile: str | None = None,
    do_not_call: bool = False, birthday: date | None = None, birthday_is_lunar: bool = False,
) -> int:
    n = next(_serial)
    mobile = mobile or f"139{random.randint(0, 99999999):08d}"
    now = clock.now()
    identity = await CustomerIdentity.insert(
        CustomerIdentity(group=group_id, match_key=f"{mobile}-{n}", name=name, created_at=now)
    ).returning(CustomerIdentity.id)
    rows = await Customer.insert(Customer(
        group=group_id, store=store_id, group_identity=identity[0]["id"], name=name, gender=gender, mobile=mobile,
        do_not_call=do_not_call, birthday=birthday, birthday_is_lunar=birthday_is_lunar, created_at=now,
        updated_at=now,
    )).returning(Customer.id)
    return rows[0]["id"]


async def make_vehicle(group_id: int, store_id: int, customer_id: int, *, plate: str | None = None,
                       insurance_expires_on: date | None = None, inspection_due_on: date | None = None) -> int:
    vin = "LSV" + "".join(random.choices(string.ascii_uppercase.replace("I", "").replace("O", "")
                                         .replace("Q", "") + string.digits, k=14))
    now = clock.now()
    rows = await Vehicle.insert(Vehicle(
        group=group_id, store=store_id, customer=customer_id, vin=vin,
        plate=plate or f"沪A{random.randint(10000, 99999)}", brand="大众", model="帕萨特", colour="白色",
        insurance_expires_on=insurance_expires_on, inspection_due_on=inspection_due_on, created_at=now,
        updated_at=now,
    )).returning(Vehicle.id)
    return rows[0]["id"]


async def make_sale(group_id: int, store_id: int, customer_id: int, vehicle_id: int, delivered_at: datetime) -> int:
    rows = await Sale.insert(Sale(
        group=group_id, store=store_id, customer=customer_id, vehicle=vehicle_id, order_no=f"SO{next(_serial)}",
        salesperson="李娜", delivered_at=delivered_at, created_at=clock.now(),
    )).returning(Sale.id)
    return rows[0]["id"]


async def make_visit(group_id: int, store_id: int, customer_id: int, vehicle_id: int, left_at: datetime,
                     next_visit_on: date | None = None) -> int:
    rows = await ServiceVisit.insert(ServiceVisit(
        group=group_id, store=store_id, customer=customer_id, vehicle=vehicle_id,
        repair_order_no=f"RO{next(_serial)}", advisor="王强", repair_type="maintenance", mileage=5000,
        arrived_at=left_at - timedelta(hours=3), left_at=left_at, next_visit_on=next_visit_on,
        created_at=clock.now(),
    )).returning(ServiceVisit.id)
    return rows[0]["id"]


async def delivered_customer(tenant, store_id: int | None = None, *, delivered_at: datetime | None = None,
                             **customer) -> tuple[int, int, int]:
    """A customer with a car delivered `delivered_at` (default now): (customer_id, vehicle_id, sale_id)."""
    store_id = store_id or tenant.store_a
    customer_id = await make_customer(tenant.group_id, store_id, **customer)
    vehicle_id = await make_vehicle(tenant.group_id, store_id, customer_id)
    sale_id = await make_sale(tenant.group_id, store_id, customer_id, vehicle_id, delivered_at or clock.now())
    return customer_id, vehicle_id, sale_id


async def callbacks_of(source_type: str, source_id: int) -> dict[str, dict]:
    rows = await Callback.select().where(Callback.source_type == source_type, Callback.source_id == source_id)
    return {row["kind"]: row for row in rows}


async def pending_callback_timers(callback_id: int) -> list[dict]:
    return await Timer.select(Timer.id, Timer.due_at).where(
        Timer.subject_type == "callback", Timer.subject_id == callback_id, Timer.state == "pending"
    ).order_by(Timer.due_at)


async def fire_callback_timers(*callback_ids: int) -> list[str]:
    """Travel to each pending timer's due time and fire it through the timers' own firing path."""
    results = []
    for callback_id in callback_ids:
        for timer in await pending_callback_timers(callback_id):
            with time_machine.travel(max(timer["due_at"], clock.now()), tick=False):
                results.append(await runner.fire_timer(timer["id"]))
    return results


async def make_due(tenant, store_id: int | None = None, **customer) -> int:
    """A 2-hour care call already in the queue; returns its callback id."""
    from crm.callbacks.scheduling import schedule_for_sale

    store_id = store_id or tenant.store_a
    _, _, sale_id = await delivered_customer(tenant, store_id, **customer)
    await schedule_for_sale(group_id=tenant.group_id, store_id=store_id, sale_id=sale_id)
    callback_id = (await callbacks_of("sale", sale_id))["delivery_care_2h"]["id"]
    await fire_callback_timers(callback_id)
    return callback_id
