"""Customer-records API: CRUD, search, HQ view, validation errors, and isolation on every endpoint."""

from __future__ import annotations

import pytest

from crm.customers import service
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from tests.support.builders import make_mobile, make_vin
from tests.support.customers import make_world

API = "/api/v1"


async def test_customer_crud_round_trip(client, tenant):
    h = await tenant.headers("store_cr_manager@A")
    created = await client.post(f"{API}/customers", headers=h, json={
        "name": "马丽", "mobile": "+86 139-0000-1234", "gender": "female", "email": "ma.li@Example.com",
        "postcode": "518000", "address": "深圳市福田区", "occupation": "教师",
    })
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["mobile"] == "13900001234" and customer["store_id"] == tenant.store_a
    assert customer["email"] == "ma.li@example.com"

    vehicle = await client.post(f"{API}/vehicles", headers=h, json={
        "customer_id": customer["id"], "vin": make_vin(), "plate": "粤b12345", "model": "途观L", "colour": "白",
    })
    assert vehicle.status_code == 201, vehicle.text
    assert vehicle.json()["plate"] == "粤B12345"
    sale = await client.post(f"{API}/sales", headers=h, json={
        "customer_id": customer["id"], "vehicle_id": vehicle.json()["id"], "delivered_at": "2025-03-01T10:30:00+08:00",
        "order_no": "SO-2025-0001", "salesperson": "刘洋", "price": "215800.00", "discount": 8000,
    })
    assert sale.status_code == 201, sale.text
    assert sale.json()["price"] == "215800.00" and sale.json()["delivered_at"] == "2025-03-01T02:30:00Z"
    visit = await client.post(f"{API}/visits", headers=h, json={
        "customer_id": customer["id"], "vehicle_id": vehicle.json()["id"], "left_at": "2025-09-01T17:00:00+08:00",
        "arrived_at": "2025-09-01T09:00:00+08:00", "repair_order_no": "RO-0001", "advisor": "陈静",
        "repair_type": "maintenance", "mileage": 7500, "amount": "680.5", "next_visit_on": "2026-03-01",
    })
    assert visit.status_code == 201, visit.text

    profile = (await client.get(f"{API}/customers/{customer['id']}", headers=h)).json()
    assert [v["model"] for v in profile["vehicles"]] == ["途观L"]
    assert profile["sales"][0]["order_no"] == "SO-2025-0001"
    assert profile["visits"][0]["next_visit_on"] == "2026-03-01"
    assert profile["store_name"]

    changed = await client.patch(f"{API}/customers/{customer['id']}", headers=h, json={"occupation": "医生"})
    assert changed.status_code == 200 and changed.json()["occupation"] == "医生"
    assert changed.json()["email"] == "ma.li@example.com"  # untouched
    moved = await client.patch(f"{API}/visits/{visit.json()['id']}", headers=h,
                               json={"left_at": "2025-09-01T18:00:00+08:00"})
    assert moved.status_code == 200 and moved.json()["left_at"] == "2025-09-01T10:00:00Z"
    assert (await client.patch(f"{API}/sales/{sale.json()['id']}", headers=h,
                               json={"salesperson": "王强"})).json()["salesperson"] == "王强"
    assert (await client.patch(f"{API}/vehicles/{vehicle.json()['id']}", headers=h,
                               json={"insurer": "平安保险", "insurance_expires_on": "2026-02-28"})).status_code == 200

    for path in (f"sales/{sale.json()['id']}", f"visits/{visit.json()['id']}", f"vehicles/{vehicle.json()['id']}",
                 f"customers/{customer['id']}"):
        assert (await client.delete(f"{API}/{path}", headers=h)).status_code == 204
    after = (await client.get(f"{API}/customers/{customer['id']}", headers=h)).json()
    assert after["customer"]["active"] is False and after["sales"] == [] and after["visits"] == []
    listed = await client.get(f"{API}/sales", headers=h, params={"customer_id": customer["id"],
                                                               "include_cancelled": "true"})
    assert listed.json()["items"][0]["cancelled_at"] is not None


async def test_search_endpoint(client, world):
    h = await world.tenant.headers("call_center_agent")
    by_phone = await client.get(f"{API}/customers", headers=h, params={"q": world.mobile[-4:]})
    assert by_phone.status_code == 200
    assert {c["id"] for c in by_phone.json()["items"]} == {world.a.customer_id, world.b.customer_id}
    by_vin = await client.get(f"{API}/customers", headers=h, params={"q": world.c.vin[-6:]})
    assert [c["id"] for c in by_vin.json()["items"]] == [world.c.customer_id]
    in_store = await client.get(f"{API}/customers", headers=h,
                                params={"q": world.mobile, "store_id": world.tenant.store_b})
    assert [c["id"] for c in in_store.json()["items"]] == [world.b.customer_id]
    paged = await client.get(f"{API}/customers", headers=h, params={"page_size": 1})
    assert len(paged.json()["items"]) == 1 and paged.json()["total"] == paged.json()["pages"] > 1
    assert (await client.get(f"{API}/customers", headers=h, params={"page_size": 0})).status_code == 400
    by_name = (await client.get(f"{API}/customers", headers=h, params={"sort": "-name", "page_size": 200})).json()
    assert [c["name"] for c in by_name["items"]] == sorted((c["name"] for c in by_name["items"]), reverse=True)
    assert (await client.get(f"{API}/customers", headers=h, params={"sort": "mobile"})).status_code == 400


async def test_list_endpoints_filter_by_customer(client, world):
    h = await world.tenant.headers("store_gm@A")
    for path, key in (("vehicles", "vin"), ("sales", "order_no"), ("visits", "repair_order_no")):
        page = await client.get(f"{API}/{path}", headers=h, params={"customer_id": world.a.customer_id})
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) == 1 and page.json()["items"][0][key]
    by_plate = await client.get(f"{API}/vehicles", headers=h, params={"q": "B12345"})
    assert [v["id"] for v in by_plate.json()["items"]] == [world.a.vehicle_id]


async def test_hq_identity_view(client, world):
    hq = await client.get(f"{API}/customer-identities/{world.identity_id}", headers=await world.tenant.headers("hq_viewer"))
    assert hq.status_code == 200
    stores = hq.json()["stores"]
    assert {s["store_id"] for s in stores} == {world.tenant.store_a, world.tenant.store_b}
    assert {s["vehicles"][0]["vin"] for s in stores} == {world.a.vin, world.b.vin}
    profile = await client.get(f"{API}/customers/{world.b.customer_id}", headers=await world.tenant.headers("group_admin"))
    assert [s["store_id"] for s in profile.json()["other_stores"]] == [world.tenant.store_a]
    store_view = await client.get(f"{API}/customers/{world.b.customer_id}",
                                  headers=await world.tenant.headers("store_gm@B"))
    assert store_view.json()["other_stores"] == []


async def test_validation_errors_name_the_fields_and_write_nothing(client, tenant):
    h = await tenant.headers("staff@A")
    customers = await Customer.count().where(Customer.store == tenant.store_a)
    bad = await client.post(f"{API}/customers", headers=h, json={
        "name": "错误", "mobile": "12345", "id_number": "440301199003071231", "email": "nope",
    })
    assert bad.status_code == 400
    errors = {e["field"]: e for e in bad.json()["errors"]}
    assert set(errors) == {"mobile", "id_number", "email"}
    assert "手机号" in errors["mobile"]["message_zh"] and errors["mobile"]["message_en"]
    assert " / " in errors["id_number"]["message"]
    unknown = await client.post(f"{API}/customers", headers=h, json={"name": "错误", "nickname": "x"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "nickname"
    missing = await client.post(f"{API}/customers", headers=h, json={"mobile": make_mobile()})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "name"
    wrong_kind = await client.post(f"{API}/customers", headers=h, json={"name": "错误", "kind": "robot"})
    assert wrong_kind.status_code == 400 and wrong_kind.json()["errors"][0]["field"] == "kind"
    assert await Customer.count().where(Customer.store == tenant.store_a) == customers

    customer_id = await service.create_customer(actor=await tenant.scope("staff@A"), name="对", mobile=make_mobile())
    bad_vehicle = await client.post(f"{API}/vehicles", headers=h, json={
        "customer_id": customer_id, "vin": "LSVAU2180N2183294", "plate": "京A1234",
    })
    assert bad_vehicle.status_code == 400
    assert {e["field"] for e in bad_vehicle.json()["errors"]} == {"vin", "plate"}
    assert "校验位" in next(e for e in bad_vehicle.json()["errors"] if e["field"] == "vin")["message_zh"]
    assert await Vehicle.count().where(Vehicle.customer == customer_id) == 0
    naive = await client.post(f"{API}/sales", headers=h, json={
        "customer_id": customer_id, "vehicle_id": 1, "delivered_at": "2025-03-01T10:30:00",
    })
    assert naive.status_code == 400 and naive.json()["errors"][0]["field"] == "delivered_at"
    assert await Sale.count().where(Sale.customer == customer_id) == 0


async def test_store_id_rules(client, tenant, other_tenant):
    agent = await tenant.headers("call_center_agent")
    body = {"name": "卫东", "mobile": make_mobile()}
    no_store = await client.post(f"{API}/customers", headers=agent, json=body)
    assert no_store.status_code == 400 and no_store.json()["errors"][0]["field"] == "store_id"
    for unknown in (other_tenant.store_a, 2_000_000_000):
        response = await client.post(f"{API}/customers", headers=agent, json={**body, "store_id": unknown})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "store_id"
    ok = await client.post(f"{API}/customers", headers=agent, json={**body, "store_id": tenant.store_b})
    assert ok.status_code == 201 and ok.json()["store_id"] == tenant.store_b
    listing = await client.get(f"{API}/customers", headers=agent, params={"store_id": other_tenant.store_a})
    assert listing.status_code == 400 and listing.json()["errors"][0]["field"] == "store_id"


async def test_duplicate_mobile_is_409_with_the_existing_id(client, tenant):
    h = await tenant.headers("staff@A")
    body = {"name": "卫东", "mobile": make_mobile()}
    first = await client.post(f"{API}/customers", headers=h, json=body)
    second = await client.post(f"{API}/customers", headers=h, json=body)
    assert second.status_code == 409 and second.json()["customer_id"] == first.json()["id"]


@pytest.mark.parametrize("role", ["hq_viewer", "legal", "brand_manager"])
async def test_read_only_roles_may_not_write(client, world, role):
    h = await world.tenant.headers(role)
    response = await client.post(f"{API}/customers", headers=h,
                                 json={"name": "只读", "mobile": make_mobile(), "store_id": world.tenant.store_a})
    assert response.status_code == 403
    assert (await client.delete(f"{API}/customers/{world.a.customer_id}", headers=h)).status_code == 403
    assert (await client.get(f"{API}/customers/{world.a.customer_id}", headers=h)).status_code == 200


# --- isolation: every endpoint ---------------------------------------------------------------
# Path ids out of scope answer 404; ids in a body answer 400 on that field; lists never show them.


def _path_calls(p, identity_id):
    """Every endpoint that takes an object id in its path, aimed at profile `p`."""
    return [
        ("GET", f"customers/{p.customer_id}", None),
        ("PATCH", f"customers/{p.customer_id}", {"note": "篡改"}),
        ("DELETE", f"customers/{p.customer_id}", None),
        ("GET", f"customer-identities/{identity_id}", None),
        ("GET", f"vehicles/{p.vehicle_id}", None),
        ("PATCH", f"vehicles/{p.vehicle_id}", {"colour": "黑"}),
        ("DELETE", f"vehicles/{p.vehicle_id}", None),
        ("GET", f"sales/{p.sale_id}", None),
        ("PATCH", f"sales/{p.sale_id}", {"salesperson": "篡改"}),
        ("DELETE", f"sales/{p.sale_id}", None),
        ("GET", f"visits/{p.visit_id}", None),
        ("PATCH", f"visits/{p.visit_id}", {"advisor": "篡改"}),
        ("DELETE", f"visits/{p.visit_id}", None),
    ]


def _body_calls(p, store_id):
    """Every endpoint that takes ids in its body, naming profile `p`'s objects and store."""
    when = "2025-01-01T10:00:00+08:00"
    return [
        ("POST", "customers", {"name": "越权", "mobile": make_mobile(), "store_id": store_id}, "store_id"),
        ("POST", "vehicles", {"customer_id": p.customer_id, "vin": make_vin()}, "customer_id"),
        ("PATCH", None, {"customer_id": p.customer_id}, "customer_id"),  # hand an own vehicle to a foreign customer
        ("POST", "sales", {"customer_id": p.customer_id, "vehicle_id": p.vehicle_id, "delivered_at": when},
         "customer_id"),
        ("POST", "visits", {"customer_id": p.customer_id, "vehicle_id": p.vehicle_id, "left_at": when},
         "customer_id"),
    ]


def _list_calls(p, store_id):
    return [
        ("customers", {"q": p.vin}),
        ("vehicles", {"customer_id": p.customer_id}),
        ("sales", {"customer_id": p.customer_id}),
        ("visits", {"vehicle_id": p.vehicle_id}),
    ]


async def _assert_isolated(client, headers, target, identity_id, store_id, own_vehicle_id):
    for method, path, body in _path_calls(target, identity_id):
        response = await client.request(method, f"{API}/{path}", headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
    for method, path, body, field in _body_calls(target, store_id):
        url = f"{API}/{path}" if path else f"{API}/vehicles/{own_vehicle_id}"
        response = await client.request(method, url, headers=headers, json=body)
        assert response.status_code == 400, (method, url, response.text)
        assert response.json()["errors"][0]["field"] == field
    for path, params in _list_calls(target, store_id):
        response = await client.get(f"{API}/{path}", headers=headers, params=params)
        assert response.status_code == 200 and response.json()["items"] == [], (path, response.text)
        foreign_store = await client.get(f"{API}/{path}", headers=headers, params={"store_id": store_id})
        assert foreign_store.status_code == 400, (path, foreign_store.text)


async def _assert_untouched(world, profile):
    hq = await world.tenant.scope("group_admin")
    customer = await service.get_customer(actor=hq, customer_id=profile.customer_id)
    assert customer.active and customer.note == ""
    vehicle = await service.get_vehicle(actor=hq, vehicle_id=profile.vehicle_id)
    assert vehicle.active and vehicle.colour == ""
    assert (await service.get_sale(actor=hq, sale_id=profile.sale_id)).cancelled_at is None
    assert (await service.get_visit(actor=hq, visit_id=profile.visit_id)).advisor == "陈静"


async def test_store_a_user_cannot_reach_store_b(client, world):
    """Store C's customer has an identity of its own: store A has no part of it."""
    headers = await world.tenant.headers("store_gm@A")
    c_identity = (await service.get_customer(actor=await world.tenant.scope("hq_viewer"),
                                             customer_id=world.c.customer_id)).identity_id
    for target, identity in ((world.b, c_identity), (world.c, c_identity)):
        await _assert_isolated(client, headers, target, identity, world.tenant.store_b, world.a.vehicle_id)
    await _assert_untouched(world, world.b)


async def test_another_group_cannot_reach_anything(client, world, other_tenant):
    foreign = await make_world(other_tenant)
    headers = await other_tenant.headers("group_admin")
    await _assert_isolated(client, headers, world.a, world.identity_id, world.tenant.store_a, foreign.a.vehicle_id)
    await _assert_untouched(world, world.a)
    store_user = await other_tenant.headers("store_gm@A")
    await _assert_isolated(client, store_user, world.a, world.identity_id, world.tenant.store_a, foreign.a.vehicle_id)
    search = await client.get(f"{API}/customers", headers=headers, params={"q": world.mobile})
    assert search.json()["items"] == []


async def test_brand_manager_of_another_division_cannot_see_store_a(client, world):
    headers = await world.tenant.headers("brand_manager@div2")
    for method, path, _ in _path_calls(world.a, world.identity_id):
        if method == "GET":
            response = await client.get(f"{API}/{path}", headers=headers)
            assert response.status_code == 404, (path, response.text)
    for path, params in _list_calls(world.a, world.tenant.store_a):
        response = await client.get(f"{API}/{path}", headers=headers, params=params)
        assert response.json()["items"] == [], path
    assert (await client.get(f"{API}/customers/{world.c.customer_id}", headers=headers)).status_code == 200


async def test_import_into_a_foreign_store_is_refused(client, world, other_tenant):
    csv = "客户姓名,手机\n越权,13900000000\n".encode()
    for headers, store_id in (
        (await world.tenant.headers("store_gm@A"), world.tenant.store_b),
        (await other_tenant.headers("group_admin"), world.tenant.store_a),
    ):
        response = await client.post(f"{API}/customers/import", headers=headers,
                                     files={"file": ("a.csv", csv, "text/csv")}, data={"store_id": str(store_id)})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "store_id"
    assert await Customer.count().where(Customer.name == "越权") == 0
    assert await ServiceVisit.count().where(ServiceVisit.store == world.tenant.store_b) == 1


async def test_openapi_documents_the_customer_endpoints(client):
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/customers", "/api/v1/customers/{customer_id}", "/api/v1/customer-identities/{identity_id}",
                 "/api/v1/vehicles/{vehicle_id}", "/api/v1/sales", "/api/v1/visits/{visit_id}",
                 "/api/v1/customers/import"):
        assert path in paths, path
