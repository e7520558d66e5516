"""Builders for complaint tests: customers with cars and history, and a complaint walked to a state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import clock
from crm.customers import service as customers
from tests.customer_factories import make_mobile, make_vin

_seq = itertools.count(1)


@dataclass
class Car:
    customer_id: int
    vehicle_id: int
    mobile: str
    vin: str
    plate: str


async def customer_with_car(tenant, store: str = "A", *, name: str = "张三", mobile: str | None = None) -> Car:
    """A customer of store A/B/C with one vehicle (plate 沪A…)."""
    actor = await tenant.scope(f"store_cr_manager@{store}")
    mobile = mobile or make_mobile()
    customer_id = await customers.find_or_create_customer(
        actor=actor, store_id=actor.home_store_id, name=name, mobile=mobile
    )
    vin = make_vin()
    plate = f"沪A{next(_seq) % 100000:05d}"
    vehicle_id = await customers.create_vehicle(
        actor=actor, customer_id=customer_id, vin=vin, plate=plate, model="帕萨特 2024款"
    )
    return Car(customer_id, vehicle_id, mobile, vin, plate)


async def same_car_at(tenant, car: Car, store: str) -> Car:
    """The same person and car as known to another store (its own profile and vehicle row)."""
    actor = await tenant.scope(f"store_cr_manager@{store}")
    customer_id = await customers.find_or_create_customer(
        actor=actor, store_id=actor.home_store_id, name="张三", mobile=car.mobile
    )
    vehicle_id = await customers.create_vehicle(actor=actor, customer_id=customer_id, vin=car.vin, plate=car.plate)
    return Car(customer_id, vehicle_id, car.mobile, car.vin, car.plate)


async def visit(tenant, car: Car, store: str, left_at: datetime) -> int:
    actor = await tenant.scope(f"store_cr_manager@{store}")
    return await customers.record_visit(
        actor=actor, customer_id=car.customer_id, vehicle_id=car.vehicle_id, left_at=left_at,
        arrived_at=left_at - timedelta(hours=2), repair_type="maintenance",
    )


async def sale(tenant, car: Car, store: str, delivered_at: datetime) -> int:
    actor = await tenant.scope(f"store_cr_manager@{store}")
    return await customers.record_sale(
        actor=actor, customer_id=car.customer_id, vehicle_id=car.vehicle_id, delivered_at=delivered_at
    )


def ago(**kw) -> datetime:
    return clock.now() - timedelta(**kw)
