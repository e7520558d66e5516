"""Customer records for web UI tests, written through the customer service (valid ids, unique per call)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from crm import clock
from crm.customers.service import create_customer, create_vehicle, record_sale, record_visit
from crm.customers.validation import id_check_character, vin_check_digit
from tests.factories import Tenant

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_random = random.Random()


@dataclass(frozen=True)
class CustomerData:
    id: int
    name: str
    mobile: str
    plate: str
    vin: str


async def customer_with_history(tenant: Tenant, who: str = "store_gm@A", *, name: str = "王建国") -> CustomerData:
    """A private customer of `who`'s store with one vehicle, its delivery and one service visit."""
    actor = await tenant.scope(who)
    mobile, plate, vin = random_mobile(), random_plate(), random_vin()
    customer_id = await create_customer(
        actor=actor, name=name, mobile=mobile, gender="male", marital_status="married",
        id_number=random_id_number(), address="上海市浦东新区张江路88号", occupation="工程师",
    )
    vehicle_id = await create_vehicle(
        actor=actor, customer_id=customer_id, vin=vin, plate=plate, brand="大众", model="帕萨特 330TSI",
        colour="珍珠白", insurer="中国人保",
    )
    now = clock.now()
    await record_sale(
        actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, delivered_at=now - timedelta(days=200),
        salesperson="李娜", price=Decimal("218800.00"), discount=Decimal("12000.00"),
    )
    await record_visit(
        actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, left_at=now - timedelta(days=20),
        advisor="张伟", repair_type="maintenance", mileage=7500, amount=Decimal("680.00"),
    )
    return CustomerData(id=customer_id, name=name, mobile=mobile, plate=plate, vin=vin)


def random_mobile() -> str:
    return "139" + "".join(_random.choices("0123456789", k=8))


def random_plate() -> str:
    return "沪" + _random.choice("ABCDEFGHJK") + "".join(_random.choices("0123456789", k=5))


def random_vin() -> str:
    body = _random.choices(_VIN_CHARS, k=17)
    body[8] = "0"
    return "".join(body[:8]) + vin_check_digit("".join(body)) + "".join(body[9:])


def random_id_number() -> str:
    head = "310115" + f"{_random.randint(1960, 2000)}{_random.randint(1, 12):02d}{_random.randint(1, 28):02d}"
    head += "".join(_random.choices("0123456789", k=3))
    return head + id_check_character(head)
