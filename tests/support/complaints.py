"""Builders for complaint tests: customers with cars and history, and a complaint walked to a state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import clock
from crm.complaints import service
from crm.customers import service as customers
from tests.customer_factories import make_mobile, make_vin
from tests.support.web import csrf_of

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


API = "/api/v1/complaints"


async def intake(client, tenant, car, who="call_center_agent", expect=201, **extra) -> int:
    body = {
        "channel": "hotline_400",
        "content": "保养后发动机异响,服务顾问态度差",
        "expected_solution": "免费检修并道歉",
        "customer_id": car.customer_id,
        "vehicle_id": car.vehicle_id,
        **extra,
    }
    r = await client.post(API, json=body, headers=await tenant.headers(who))
    assert r.status_code == expect, r.text
    return r.json()["id"] if expect == 201 else r.json()


async def step(client, tenant, who, cid, path, body=None, expect=200):
    r = await client.post(f"{API}/{cid}/{path}", json=body or {}, headers=await tenant.headers(who))
    assert r.status_code == expect, r.text
    return r.json()


async def detail(client, tenant, who, cid):
    r = await client.get(f"{API}/{cid}", headers=await tenant.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


async def handle_to_resolved(client, tenant, cid, store="A"):
    head = tenant.users[f"department_head@{store}"]
    await step(client, tenant, f"store_cr_manager@{store}", cid, "assign",
               {"handler_user_id": head, "department": "service"})
    await step(client, tenant, f"department_head@{store}", cid, "analyse",
               {"cause_category": "service", "department": "service", "liability": "liable",
                "accused_user_id": tenant.users[f"staff@{store}"], "note": "服务顾问未按流程解释"})
    await step(client, tenant, f"department_head@{store}", cid, "countermeasure",
               {"countermeasure": "安排技师复检,服务经理致歉"})
    return await step(client, tenant, f"department_head@{store}", cid, "resolve",
                      {"resolution": "已免费更换皮带,客户认可", "improvement_measures": "全员培训交车解释流程"})


async def act(client, cid: int, action: str, **fields):
    page = await client.get(f"/complaints/{cid}")
    return await client.post(f"/complaints/{cid}/act/{action}", data={"_csrf_token": csrf_of(page.text), **fields})


async def take(tenant, car, who="call_center_agent", **extra) -> int:
    return await service.create_complaint(
        actor=await tenant.scope(who), customer_id=car.customer_id, vehicle_id=car.vehicle_id,
        channel="hotline_400", content="提车时发现划痕", **extra,
    )


async def to_countermeasure(tenant, cid: int, store: str = "A") -> None:
    cr, head = await tenant.scope(f"store_cr_manager@{store}"), await tenant.scope(f"department_head@{store}")
    await service.accept_complaint(actor=cr, complaint_id=cid)
    await service.assign_handler(actor=cr, complaint_id=cid, handler_user_id=head.user_id, department="sales")
    await service.record_cause(actor=head, complaint_id=cid, cause_category="service", department="sales",
                               liability="liable")
    await service.record_countermeasure(actor=head, complaint_id=cid, countermeasure="重新喷漆")
