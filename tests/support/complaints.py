"""Complaint-area helpers: the complaint API step by step, the web actions, a hotline complaint."""

from __future__ import annotations

from datetime import datetime

from tests.support import builders
from tests.support.builders import Car, ago, customer_with_car, same_car_at  # noqa: F401 - old import names
from tests.support.web import csrf_of


async def visit(tenant, car: Car, store: str, left_at: datetime) -> int:
    """Old signature of `builders.visit`; delete after the branches landed."""
    return await builders.visit(tenant, car, left_at, who=f"store_cr_manager@{store}")


async def sale(tenant, car: Car, store: str, delivered_at: datetime) -> int:
    """Old signature of `builders.sale`; delete after the branches landed."""
    return await builders.sale(tenant, car, delivered_at, who=f"store_cr_manager@{store}")


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
    """A hotline complaint about scratches found at delivery, routed by the intake."""
    return await builders.complaint(tenant, car, who=who, content="提车时发现划痕", expected_solution="", **extra)


async def to_countermeasure(tenant, cid: int, store: str = "A") -> None:
    """Accepted, assigned to sales, analysed and with a countermeasure (repaint)."""
    await builders.walk_complaint(tenant, cid, "countermeasure", store=store, department="sales",
                                  countermeasure="重新喷漆")
