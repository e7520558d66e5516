"""Old import names for the web tests' customer data: the builders live in tests/support/builders.py.

Delete this module once no test imports it (branches started before the builders moved still do).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support import builders
from tests.support.builders import (
    Tenant,
    make_id_number,
    make_mobile,
    make_plate,
    make_vin,
)

random_mobile, random_plate, random_vin, random_id_number = make_mobile, make_plate, make_vin, make_id_number


@dataclass(frozen=True)
class CustomerData:
    id: int
    name: str
    mobile: str
    plate: str
    vin: str


async def customer_with_history(tenant: Tenant, who: str = "store_gm@A", *, name: str = "王建国") -> CustomerData:
    car = await builders.customer_with_history(tenant, who.split("@")[1], name=name, who=who)
    return CustomerData(id=car.customer_id, name=name, mobile=car.mobile, plate=car.plate, vin=car.vin)
