"""Bad input to the JSON API, one test per class of bug the fuzz test (`test_api_fuzz.py`) found:
a 400 naming the field in the error shape, never a 500, and nothing written.
"""

from __future__ import annotations

import pytest

from crm.complaints.tables import AuthorityRule, Complaint, ComplaintCompensation
from crm.customers.tables import Customer, Sale, ServiceVisit
from crm.privacy import vault
from tests.support.builders import make_mobile
from tests.support.customers import imported

API = "/api/v1"
TOO_BIG = 2**31  # one past PostgreSQL's `integer`
FAR_TOO_BIG = 10**20  # past `bigint` as well


def fields_of(response) -> set[str]:
    """The fields a 400 names, after checking the error shape."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400 and " / " in body["detail"]
    for problem in body["errors"]:
        assert problem["field"] and problem["message_zh"] and problem["message_en"], problem
    return {problem["field"] for problem in body["errors"]}


@pytest.mark.parametrize("path, field", [
    (f"/customers/{TOO_BIG}", "customer_id"),
    (f"/customer-identities/{FAR_TOO_BIG}", "identity_id"),
    (f"/vehicles/{TOO_BIG}", "vehicle_id"),
    (f"/sales/{TOO_BIG}", "sale_id"),
    ("/visits/0", "visit_id"),
    (f"/complaints/{TOO_BIG}", "complaint_id"),
    (f"/complaints/{FAR_TOO_BIG}/timeline", "complaint_id"),
    (f"/stores/{TOO_BIG}/calendar", "store_id"),
    (f"/sales?vehicle_id=-{TOO_BIG}", "vehicle_id"),
    (f"/visits?customer_id={FAR_TOO_BIG}", "customer_id"),
    (f"/customers?store_id={TOO_BIG}", "store_id"),
    (f"/complaints?store_id={TOO_BIG}", "store_id"),
    (f"/complaints/routing-suggestion?customer_id={TOO_BIG}", "customer_id"),
    (f"/notifications?page={2**63}", "page"),
    (f"/callbacks/{TOO_BIG}", "callback_id"),
    (f"/callbacks/queue?store_id={TOO_BIG}", "store_id"),
    (f"/dms/keys?store_id={FAR_TOO_BIG}", "store_id"),
])
async def test_ids_beyond_the_database_columns_are_400_not_500(client, tenant, path, field):
    response = await client.get(f"{API}{path}", headers=await tenant.headers("group_admin"))
    assert fields_of(response) == {field}


async def test_ids_and_text_of_other_writes_are_checked_before_the_database(client, tenant):
    h = await tenant.headers("group_admin")
    assert fields_of(await client.delete(f"{API}/calendar/overrides/{TOO_BIG}", headers=h)) == {"override_id"}
    assert fields_of(await client.post(f"{API}/callbacks/{TOO_BIG}/claim", headers=h)) == {"callback_id"}
    assert fields_of(await client.delete(f"{API}/dms/keys/%00", headers=h)) == {"key_id"}
    for body, field in (
        ({"comment": "满意\u0000"}, "comment"),
        ({"corrections": {"mobile": "139\u0000"}}, "corrections[...]"),  # msgspec's path for a dict value
    ):
        outcome = await client.post(f"{API}/callbacks/1/outcome", headers=h, json={"outcome": "reached", **body})
        assert fields_of(outcome) == {field}


async def test_ids_in_bodies_and_actions_beyond_the_columns_are_400(client, tenant):
    h = await tenant.headers("store_cr_manager@A")
    intake = await client.post(f"{API}/complaints", headers=h, json={
        "channel": "walk_in", "content": "等候时间过长", "customer_id": TOO_BIG,
    })
    assert fields_of(intake) == {"customer_id"}
    read = await client.post(f"{API}/notifications/{2**63}/read", headers=h)
    assert fields_of(read) == {"notification_id"}
    decide = await client.post(f"{API}/complaints/1/compensations/{TOO_BIG}/decision", headers=h,
                               json={"approve": True})
    assert fields_of(decide) == {"compensation_id"}


@pytest.mark.parametrize("path, field", [
    ("/customers?q=%00", "q"),
    ("/vehicles?q=A%00", "q"),
    ("/complaints?q=%E5%BC%A0%00", "q"),
])
async def test_nul_characters_in_queries_are_400(client, tenant, path, field):
    response = await client.get(f"{API}{path}", headers=await tenant.headers("store_cr_manager@A"))
    assert fields_of(response) == {field}
    assert "U+0000" in response.json()["errors"][0]["message_en"]


async def test_nul_characters_in_bodies_are_400_and_write_nothing(client, tenant):
    h = await tenant.headers("store_cr_manager@A")
    customers = await Customer.count().where(Customer.store == tenant.store_a)
    created = await client.post(f"{API}/customers", headers=h, json={"name": "张\u0000三", "mobile": make_mobile()})
    assert fields_of(created) == {"name"}
    complaint = await client.post(f"{API}/complaints", headers=h, json={
        "channel": "walk_in", "content": "空调\u0000不制冷", "new_customer_name": "李四",
        "new_customer_mobile": make_mobile(),
    })
    assert fields_of(complaint) == {"content"}
    token = await client.post(f"{API}/auth/token", json={"username": "admin\u0000", "password": "x"})
    assert fields_of(token) == {"username"}
    assert await Customer.count().where(Customer.store == tenant.store_a) == customers


async def test_nul_characters_in_major_complaint_reports_and_policy_are_400(client, tenant):
    report = await client.put(f"{API}/major/1/report", headers=await tenant.headers("store_cr_manager@A"),
                              json={"facts": "客户\u0000堵门"})
    assert fields_of(report) == {"facts"}
    policy = await client.put(f"{API}/major/policy", headers=await tenant.headers("group_admin"), json={"levels": [
        {"delay_seconds": 86400, "condition": "report_missing", "roles": ["hq_viewer"], "label_zh": "超时\u0000"},
    ]})
    assert fields_of(policy) == {"levels[0].label_zh"}
    repeat = await client.get(f"{API}/major/repeat-check?customer_id=1&channel=%00",
                              headers=await tenant.headers("call_center_agent"))
    assert fields_of(repeat) == {"channel"}


@pytest.mark.parametrize("content", [b"\x00", b"{", b"\xff\xfe", b"", b"[]", b"null"])
async def test_a_body_that_is_not_the_expected_json_is_400_with_a_field(client, tenant, content):
    response = await client.post(f"{API}/customers", content=content, headers={
        **await tenant.headers("store_cr_manager@A"), "content-type": "application/json",
    })
    assert fields_of(response)


async def test_a_missing_body_says_so(client, tenant):
    response = await client.post(f"{API}/complaints/1/accept", headers=await tenant.headers("store_cr_manager@A"))
    assert fields_of(response) == {"body"}
    assert "missing" in response.json()["errors"][0]["message_en"]


async def test_nul_characters_in_an_imported_file_are_a_row_error(client, tenant):
    csv = "姓名,手机\n张\x00三,13900000000\n".encode()
    job = await imported(client, await tenant.headers("store_cr_manager@A"), "customers.csv", csv)
    assert job["imported"] is False and {e["field"] for e in job["errors"]} == {"name"}
    assert await Customer.count().where(Customer.store == tenant.store_a) == 0


@pytest.mark.parametrize("query, field", [
    ("page_size=-1", "page_size"),
    ("page_size=0", "page_size"),
    ("page_size=100000", "page_size"),
    ("page=0", "page"),
    ("page=-5", "page"),
    ("sort=nonsense", "sort"),
    ("sort=-nonsense", "sort"),
    ("channel=%00", "channel"),
    ("channel=pigeon", "channel"),
])
async def test_complaint_lists_check_paging_and_filters(client, tenant, query, field):
    h = await tenant.headers("group_admin")
    assert fields_of(await client.get(f"{API}/complaints?{query}", headers=h)) == {field}
    if field in ("page_size", "page", "sort"):
        assert fields_of(await client.get(f"{API}/complaints/revisit-queue?{query}", headers=h)) == {field}


@pytest.mark.parametrize("path, query, fields", [
    ("/complaints", f"channel=pigeon&store_id={TOO_BIG}&page_size=999", {"channel", "store_id", "page_size"}),
    ("/complaints/export", f"store_id={TOO_BIG}&format=pdf", {"store_id", "format"}),
    ("/callbacks", "state=%00&page=0", {"state", "page"}),
    ("/callbacks/export", "state=%00&format=pdf", {"state", "format"}),
    ("/audit", "since=x&page_size=0", {"since", "page_size"}),
    ("/audit/export", "format=pdf&since=x", {"format", "since"}),
])
async def test_a_lists_filters_are_checked_with_its_paging_and_named_as_sent(client, tenant, path, query, fields):
    """The filter of a list and its export is read once (`api.lists.filtered_by`), yet every bad parameter is
    named at once, by the name in the query (`state`, not the handler's `in_state`)."""
    h = await tenant.headers("group_admin")
    assert fields_of(await client.get(f"{API}{path}?{query}", headers=h)) == fields


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity", "1e30"])
async def test_amounts_that_are_not_finite_or_too_big_are_400(client, world, amount):
    h = await tenant_headers(world, "store_cr_manager@A")
    a = world.a
    sales = await Sale.count().where(Sale.customer == a.customer_id)
    sale = await client.post(f"{API}/sales", headers=h, json={
        "customer_id": a.customer_id, "vehicle_id": a.vehicle_id, "delivered_at": "2025-03-01T10:30:00+08:00",
        "price": amount,
    })
    assert fields_of(sale) == {"price"}
    assert fields_of(await client.patch(f"{API}/visits/{a.visit_id}", headers=h, json={"amount": amount})) == {"amount"}
    assert await Sale.count().where(Sale.customer == a.customer_id) == sales


@pytest.mark.parametrize("limit", ["NaN", "Infinity", "1e30", "0.001"])
async def test_authority_limits_must_be_amounts_the_table_holds(client, tenant, limit):
    admin = await tenant.headers("group_admin")
    before = await client.get(f"{API}/complaints/authority", headers=admin)
    response = await client.put(f"{API}/complaints/authority", headers=admin, json={"tiers": [
        {"approver_role": "store_cr_manager", "max_amount": "500"},
        {"approver_role": "store_gm", "max_amount": limit},
        {"approver_role": "hq_viewer"},
    ]})
    assert fields_of(response) == {"tiers[1].max_amount"}
    assert (await client.get(f"{API}/complaints/authority", headers=admin)).json() == before.json()
    assert await AuthorityRule.count().where(AuthorityRule.group == tenant.group_id) == 0  # still the defaults


async def test_compensation_amounts_must_be_finite(client, tenant):
    from tests.support.complaints import intake, step
    from tests.support.builders import customer_with_car

    cid = await intake(client, tenant, await customer_with_car(tenant, "A"))
    await step(client, tenant, "store_cr_manager@A", cid, "accept")
    await step(client, tenant, "store_cr_manager@A", cid, "assign",
               {"handler_user_id": tenant.users["department_head@A"], "department": "service"})
    await step(client, tenant, "department_head@A", cid, "analyse",
               {"cause_category": "product", "department": "service", "liability": "not_liable"})
    h = await tenant.headers("department_head@A")
    for amount in ("NaN", "sNaN", "Infinity"):
        response = await client.post(f"{API}/complaints/{cid}/compensations", headers=h,
                                     json={"amount": amount, "kind": "cash"})
        assert fields_of(response) == {"amount"}
    assert await ComplaintCompensation.count().where(ComplaintCompensation.complaint == cid) == 0


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00Z"])
async def test_times_before_1900_are_400(client, world, when):
    h = await tenant_headers(world, "store_cr_manager@A")
    a = world.a
    visits = await ServiceVisit.count().where(ServiceVisit.customer == a.customer_id)
    sale = await client.post(f"{API}/sales", headers=h, json={
        "customer_id": a.customer_id, "vehicle_id": a.vehicle_id, "delivered_at": when,
    })
    assert fields_of(sale) == {"delivered_at"}
    visit = await client.post(f"{API}/visits", headers=h, json={
        "customer_id": a.customer_id, "vehicle_id": a.vehicle_id, "left_at": "2025-01-01T10:00:00Z", "arrived_at": when,
    })
    assert fields_of(visit) == {"arrived_at"}
    assert await ServiceVisit.count().where(ServiceVisit.customer == a.customer_id) == visits


@pytest.mark.parametrize("query, field", [
    ("/sales?delivered_from=0001-01-01T00:00:00%2B08:00", "delivered_from"),
    ("/sales?delivered_before=9999-12-31T23:59:59-05:00", "delivered_before"),
    ("/visits?left_from=0001-01-01T00:00:00", "left_from"),
    ("/visits?left_before=9999-12-31T20:00:00Z", "left_before"),
    ("/complaints/accountability?month=0001-01", "month"),
    ("/complaints/accountability?month=9999-12", "month"),
    ("/calendar/overrides?year=0", "year"),
    ("/callbacks/statistics?store_id={store}&date=0001-01-01", "date"),
    ("/callbacks/statistics?store_id={store}&period=month&date=9999-12-31", "date"),
])
async def test_time_filters_beyond_what_the_database_holds_are_400(client, tenant, query, field):
    path = API + query.format(store=tenant.store_a)
    assert fields_of(await client.get(path, headers=await tenant.headers("group_admin"))) == {field}


async def test_intake_that_fails_after_making_the_new_customer_leaves_no_customer(client, tenant):
    """Intake of a new caller writes a customer, then the complaint: a refusal of the second undoes the first."""
    mobile = make_mobile()
    h = await tenant.headers("call_center_agent")
    complaints = await Complaint.count().where(Complaint.group == tenant.group_id)
    response = await client.post(f"{API}/complaints", headers=h, json={
        "channel": "hotline_400", "content": "销售承诺的赠品未兑现", "store_id": tenant.store_a,
        "new_customer_name": "李四", "new_customer_mobile": mobile,
        "accused_user_id": tenant.users["staff@B"],  # not of store A: refused once the customer exists
    })
    assert fields_of(response) == {"accused_user_id"}
    assert await Customer.count().where(Customer.mobile_hash == vault.lookup(mobile)) == 0
    assert await Complaint.count().where(Complaint.group == tenant.group_id) == complaints


async def tenant_headers(world, who: str) -> dict[str, str]:
    return await world.tenant.headers(who)


async def test_every_bad_field_of_a_body_is_named_at_once(client, tenant):
    h = await tenant.headers("call_center_agent")
    before = await Complaint.count().where(Complaint.group == tenant.group_id)
    answer = await client.post(f"{API}/complaints", headers=h, json={
        "channel": "pigeon", "content": "", "customer_id": "x", "urgency": "now", "fax": "1",
    })
    assert fields_of(answer) == {"channel", "content", "customer_id", "urgency", "fax"}
    missing = await client.post(f"{API}/complaints", headers=h, json={"customer_id": 1})
    assert fields_of(missing) == {"channel", "content"}
    assert await Complaint.count().where(Complaint.group == tenant.group_id) == before


async def test_a_missing_query_parameter_is_named_as_itself_not_body(client, tenant):
    h = await tenant.headers("call_center_agent")
    answer = await client.get(f"{API}/complaints/routing-suggestion", headers=h)
    assert fields_of(answer) == {"customer_id"}
    assert "query parameter" in answer.json()["errors"][0]["message_en"]
    both = await client.get(f"{API}/complaints/routing-suggestion?customer_id=x&vehicle_id=y", headers=h)
    assert fields_of(both) == {"customer_id", "vehicle_id"}
