"""Callback-area helpers: customers, cars, sales and visits as store staff (through tests/support/builders.py,
so the records' signals plan the callbacks), the callbacks planned, and firing their timers."""

from __future__ import annotations

from datetime import date, datetime

import time_machine

from crm import clock
from crm.callbacks.tables import Callback
from crm.timers import runner
from crm.timers.tables import Timer
from tests.conftest import settle_timers  # noqa: F401 - old import name; delete after the branches landed
from tests.support import builders
from tests.support.builders import Car


def _staff(tenant, store_id: int) -> str:
    return f"staff@{tenant.label(store_id)}"


async def make_customer(
    tenant, store_id: int, *, name: str = "张伟", gender: str = "male", mobile: str | None = None, **fields
) -> int:
    return await builders.customer(tenant, store_id, name=name, gender=gender, mobile=mobile,
                                   who=_staff(tenant, store_id), **fields)


async def make_vehicle(tenant, store_id: int, customer_id: int, **fields) -> int:
    return await builders.vehicle(tenant, customer_id, store_id, who=_staff(tenant, store_id), colour="白色", **fields)


def _car(tenant, store_id: int, customer_id: int, vehicle_id: int) -> Car:
    return Car(customer_id, vehicle_id, mobile="", vin="", plate="", store=tenant.label(store_id))


async def make_sale(tenant, store_id: int, customer_id: int, vehicle_id: int, delivered_at: datetime) -> int:
    """Recorded through the customer records, so its signal plans the callbacks."""
    car = _car(tenant, store_id, customer_id, vehicle_id)
    return await builders.sale(tenant, car, delivered_at, who=_staff(tenant, store_id))


async def make_visit(tenant, store_id: int, customer_id: int, vehicle_id: int, left_at: datetime,
                     next_visit_on: date | None = None) -> int:
    car = _car(tenant, store_id, customer_id, vehicle_id)
    return await builders.visit(tenant, car, left_at, who=_staff(tenant, store_id), next_visit_on=next_visit_on)


async def delivered_customer(tenant, store_id: int | None = None, *, delivered_at: datetime | None = None,
                             name: str = "张伟", gender: str = "male", **customer) -> tuple[int, int, int]:
    """A customer with a car delivered `delivered_at` (default now): (customer_id, vehicle_id, sale_id)."""
    who = _staff(tenant, store_id or tenant.store_a)
    car = await builders.customer_with_car(tenant, store_id or tenant.store_a, name=name, gender=gender, who=who,
                                           car_fields={"colour": "白色"}, **customer)
    return car.customer_id, car.vehicle_id, await builders.sale(tenant, car, delivered_at, who=who)


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
    store_id = store_id or tenant.store_a
    _, _, sale_id = await delivered_customer(tenant, store_id, **customer)
    callback_id = (await callbacks_of("sale", sale_id))["delivery_care_2h"]["id"]
    await fire_callback_timers(callback_id)
    return callback_id

