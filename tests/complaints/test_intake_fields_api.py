"""Complaint intake as an integrator sends it: every phone checked like the customer's, every bad field
named by the request's own name and all at once, nothing written."""

from __future__ import annotations

import pytest

from crm.complaints.tables import Complaint
from crm.customers.tables import Customer
from crm.customers.validation import check_phone
from tenants.errors import InvalidInput
from tests.support.builders import customer_with_car
from tests.support.complaints import API, detail, intake


def problems_of(body: dict) -> dict[str, dict]:
    return {e["field"]: e for e in body["errors"]}


async def test_a_complainant_phone_that_is_no_phone_is_400_naming_the_field(client, tenant):
    car = await customer_with_car(tenant, "A")
    before = await Complaint.count().where(Complaint.group == tenant.group_id)
    bad = await intake(client, tenant, car, expect=400, complainant_phone="abc-not-a-phone")
    problem = problems_of(bad)["complainant_phone"]
    assert "电话号码格式错误" in problem["message_zh"] and "phone number" in problem["message_en"]
    assert await Complaint.count().where(Complaint.group == tenant.group_id) == before


@pytest.mark.parametrize("typed, stored", [
    ("+86 138-1234-5678", "13812345678"),
    ("010 62345678", "010-62345678"),  # a landline: the caller rang from the office
    ("(0755)88886666-123", "0755-88886666-123"),
])
async def test_a_complainant_phone_is_stored_normalised(client, tenant, typed, stored):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car, complainant_phone=typed)
    assert (await detail(client, tenant, "call_center_agent", cid))["summary"]["complainant_phone"] == stored


@pytest.mark.parametrize("raw", ["abc-not-a-phone", "12345", "010-1234", "138123456789", "0000-12345678"])
def test_check_phone_refuses_what_cannot_be_called(raw):
    with pytest.raises(InvalidInput) as refused:
        check_phone(raw, "complainant_phone")
    assert refused.value.problems[0].field == "complainant_phone"


async def test_every_bad_field_of_a_new_caller_is_named_at_once_by_its_own_name(client, tenant):
    customers = await Customer.count().where(Customer.store == tenant.store_b)
    r = await client.post(API, json={
        "channel": "hotline_400", "content": "  ", "store_id": tenant.store_b,
        "new_customer_name": " ", "new_customer_mobile": "12345", "complainant_phone": "abc-not-a-phone",
    }, headers=await tenant.headers("call_center_agent"))
    assert r.status_code == 400, r.text
    assert set(problems_of(r.json())) == {"content", "new_customer_name", "new_customer_mobile", "complainant_phone"}
    assert await Customer.count().where(Customer.store == tenant.store_b) == customers
