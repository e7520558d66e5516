"""Builders for customer records in tests: valid identifiers and a small cross-store world.

Other areas' tests (complaints, callbacks) can use them to get a customer with a vehicle.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import clock
from crm.customers import service
from crm.customers.validation import id_check_character, vin_check_digit
from tests.factories import Tenant

_serial = itertools.count(1)


def make_vin(serial: int | None = None, wmi: str = "LSV") -> str:
    """A real-looking VIN with a correct check digit, unique per call unless `serial` is given."""
    number = next(_serial) if serial is None else serial
    base = f"{wmi}AU218?N2{number:06d}"
    return base.replace("?", vin_check_digit(base.replace("?", "0")))


def make_mobile(serial: int | None = None) -> str:
    number = next(_serial) if serial is None else serial
    return f"139{number:08d}"


def make_id_number(birth: str = "19900307", serial: int | None = None) -> str:
    number = (next(_serial) if serial is None else serial) % 1000
    base = f"440301{birth}{number:03d}"
    return base + id_check_character(base)


def hours_ago(hours: float) -> datetime:
    return clock.now() - timedelta(hours=hours)


@dataclass
class Profile:
    customer_id: int
    vehicle_id: int
    sale_id: int
    visit_id: int
    vin: str
    plate: str


@dataclass
class World:
    """张伟 has profiles in stores A and B (one group identity); 王芳 is a customer of store C."""

    tenant: Tenant
    mobile: str
    a: Profile
    b: Profile
    c: Profile
    identity_id: int


async def make_profile(tenant: Tenant, who: str, *, name: str, mobile: str, plate: str, **fields) -> Profile:
    """A customer of the user's store with one vehicle, one delivery and one service visit."""
    actor = await tenant.scope(who)
    vin = make_vin()
    customer_id = await service.create_customer(actor=actor, name=name, mobile=mobile, **fields)
    vehicle_id = await service.create_vehicle(actor=actor, customer_id=customer_id, vin=vin, plate=plate, model="帕萨特")
    sale_id = await service.record_sale(
        actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, delivered_at=hours_ago(24 * 200),
        order_no=f"SO-{vin[-6:]}", salesperson="刘洋",
    )
    visit_id = await service.record_visit(
        actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, left_at=hours_ago(30),
        repair_order_no=f"RO-{vin[-6:]}", advisor="陈静", repair_type="maintenance", mileage=5000,
    )
    return Profile(customer_id, vehicle_id, sale_id, visit_id, vin, plate)


async def make_world(tenant: Tenant) -> World:
    mobile = make_mobile()
    a = await make_profile(tenant, "staff@A", name="张伟", mobile=mobile, plate="粤B12345",
                           id_number=make_id_number())
    b = await make_profile(tenant, "staff@B", name="张伟", mobile=f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                           plate="粤BD23456")
    c = await make_profile(tenant, "staff@C", name="王芳", mobile=make_mobile(), plate="沪A12345F")
    hq = await tenant.scope("hq_viewer")
    identity_id = (await service.get_customer(actor=hq, customer_id=a.customer_id)).identity_id
    return World(tenant, mobile, a, b, c, identity_id)
