"""Builders for callback tests: customer records through their service (so their signals fire), and timer firing."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta

import pytest
import time_machine

from crm import clock
from crm.callbacks.tables import Callback
from crm.customers import service as customers
from crm.timers import runner
from crm.timers.tables import Timer
from tests.customer_factories import make_mobile, make_vin

_serial = itertools.count(1)


def _staff(tenant, store_id: int) -> str:
    return "staff@" + "ABC"[tenant.store_ids.index(store_id)]


async def make_customer(
    tenant, store_id: int, *, name: str = "张伟", gender: str = "male", mobile: str | None = None, **fields
) -> int:
    actor = await tenant.scope(_staff(tenant, store_id))
    return await customers.create_customer(actor=actor, name=name, gender=gender, mobile=mobile or make_mobile(),
                                           **fields)


async def make_vehicle(tenant, store_id: int, customer_id: int, **fields) -> int:
    actor = await tenant.scope(_staff(tenant, store_id))
    fields.setdefault("plate", f"沪A{random.randint(10000, 99999)}")
    return await customers.create_vehicle(actor=actor, customer_id=customer_id, vin=make_vin(), brand="大众",
                                          model="帕萨特", colour="白色", **fields)


async def make_sale(tenant, store_id: int, customer_id: int, vehicle_id: int, delivered_at: datetime) -> int:
    """Recorded through the customer records, so its signal plans the callbacks."""
    actor = await tenant.scope(_staff(tenant, store_id))
    return await customers.record_sale(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id,
                                       delivered_at=delivered_at, order_no=f"SO{next(_serial)}-{random.random()}"[:20],
                                       salesperson="李娜")


async def make_visit(tenant, store_id: int, customer_id: int, vehicle_id: int, left_at: datetime,
                     next_visit_on: date | None = None) -> int:
    actor = await tenant.scope(_staff(tenant, store_id))
    return await customers.record_visit(
        actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, left_at=left_at,
        arrived_at=left_at - timedelta(hours=3), next_visit_on=next_visit_on,
        repair_order_no=f"RO{next(_serial)}-{random.random()}"[:20], advisor="王强", repair_type="maintenance",
        mileage=5000)


async def delivered_customer(tenant, store_id: int | None = None, *, delivered_at: datetime | None = None,
                             **customer) -> tuple[int, int, int]:
    """A customer with a car delivered `delivered_at` (default now): (customer_id, vehicle_id, sale_id)."""
    store_id = store_id or tenant.store_a
    customer_id = await make_customer(tenant, store_id, **customer)
    vehicle_id = await make_vehicle(tenant, store_id, customer_id)
    sale_id = await make_sale(tenant, store_id, customer_id, vehicle_id, delivered_at or clock.now())
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
    store_id = store_id or tenant.store_a
    _, _, sale_id = await delivered_customer(tenant, store_id, **customer)
    callback_id = (await callbacks_of("sale", sale_id))["delivery_care_2h"]["id"]
    await fire_callback_timers(callback_id)
    return callback_id


@pytest.fixture
async def settle_timers(tenant):
    """Cancel the tenant's timers still pending after a test: time-travelling tests leave some already due,
    and the sweeper of a later test (any area's) must not find them."""
    yield
    await Timer.update({Timer.state: "cancelled"}).where(Timer.group == tenant.group_id, Timer.state == "pending")
