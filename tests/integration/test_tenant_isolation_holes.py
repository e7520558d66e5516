"""Isolation holes found while routing queries through the scope (tests/unit/test_tenant_isolation_lint.py),
each proven closed over HTTP."""

from __future__ import annotations

from crm.complaints.tables import Complaint
from tests.support.complaints import customer_with_car

API = "/api/v1/complaints"


async def test_an_external_reference_matches_only_complaints_the_caller_may_see(client, tenant):
    """The retry check on `external_ref` looked through the whole group: a store A user sending a
    reference store B had used got store B's complaint id back, and their own complaint was dropped."""
    car_a, car_b = await customer_with_car(tenant, "A"), await customer_with_car(tenant, "B")

    async def intake(who: str, car) -> int:
        body = {"channel": "manufacturer", "content": "厂家转来的投诉", "customer_id": car.customer_id,
                "external_ref": "DCC-2026-0042"}
        r = await client.post(API, json=body, headers=await tenant.headers(who))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    at_b = await intake("store_cr_manager@B", car_b)
    at_a = await intake("store_cr_manager@A", car_a)

    assert at_a != at_b
    r = await client.get(f"{API}/{at_a}", headers=await tenant.headers("store_cr_manager@A"))
    assert r.status_code == 200 and r.json()["summary"]["store_id"] == tenant.store_a
    assert await Complaint.count().where(Complaint.external_ref == "DCC-2026-0042",
                                         Complaint.group == tenant.group_id) == 2
