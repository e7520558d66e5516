"""Isolation holes found while routing queries through the scope (tests/tenants/test_tenant_isolation_lint.py),
each proven closed over HTTP."""

from __future__ import annotations

import re

from crm.complaints.tables import Complaint
from tests.support.builders import customer_with_car

API = "/api/v1/complaints"


async def test_an_external_reference_never_answers_with_a_complaint_the_caller_cannot_see(client, tenant):
    """The retry check on `external_ref` (unique per group) looked through the whole group: a store A user
    sending a reference store B had used got store B's complaint id back, as if it were their own."""
    car_a, car_b = await customer_with_car(tenant, "A"), await customer_with_car(tenant, "B")

    async def intake(who: str, car):
        body = {"channel": "manufacturer", "content": "厂家转来的投诉", "customer_id": car.customer_id,
                "external_ref": "DCC-2026-0042"}
        return await client.post(API, json=body, headers=await tenant.headers(who))

    at_b = (await intake("store_cr_manager@B", car_b)).json()["id"]
    refused = await intake("store_cr_manager@A", car_a)

    assert refused.status_code == 409, refused.text
    answer = refused.json()
    assert "id" not in answer and not any(re.search(rf"(?<!\d){at_b}(?!\d)", str(text))
                                          for key, text in answer.items() if key != "status_code")
    assert (await client.get(f"{API}/{at_b}", headers=await tenant.headers("store_cr_manager@A"))).status_code == 404
    # The group's intake sees store B and still gets its retry answered with the complaint recorded.
    again = await intake("call_center_agent", car_b)
    assert again.status_code == 201 and again.json()["id"] == at_b
    assert await Complaint.count().where(Complaint.external_ref == "DCC-2026-0042",
                                         Complaint.group == tenant.group_id) == 1
