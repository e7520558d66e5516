"""A delivery's and a service visit's planned callbacks (GET /api/v1/sales|visits/{id}/callbacks): phase, due
time and outcome; other tenants' records answer 404; roles that do not read callbacks get 403."""

from __future__ import annotations

from crm import clock
from tests.support.callbacks import callbacks_of, delivered_customer, fire_callback_timers, make_visit


async def test_a_deliverys_callbacks_with_phase_due_time_and_outcome(client, tenant):
    _, _, sale_id = await delivered_customer(tenant, tenant.store_a)
    planned = await callbacks_of("sale", sale_id)
    care = planned["delivery_care_2h"]
    await fire_callback_timers(care["id"])  # the 2-hour care call is due now
    agent = await tenant.headers("callback_agent@A")
    claimed = await client.post(f"/api/v1/callbacks/{care['id']}/claim", headers=agent)
    assert claimed.status_code == 200, claimed.text
    done = await client.post(f"/api/v1/callbacks/{care['id']}/outcome", json={"outcome": "no_answer"},
                             headers=agent)
    assert done.status_code == 200, done.text

    r = await client.get(f"/api/v1/sales/{sale_id}/callbacks", headers=agent)
    assert r.status_code == 200, r.text
    listed = r.json()["items"]
    assert r.json()["total"] == len(listed) and r.json()["sort"] == "due"
    assert {c["kind"] for c in listed} == set(planned)
    assert [c["due_at"] for c in listed] == sorted(c["due_at"] for c in listed)
    first = next(c for c in listed if c["id"] == care["id"])
    assert first["outcome"] == "no_answer" and first["outcome_label"] == "无人接听"
    assert first["phase"] in ("planned", "due") and first["attempts"] == 1
    later = [c for c in listed if c["id"] != care["id"]]
    assert later and all(c["phase"] == "planned" and c["outcome"] == "" for c in later)
    assert all(c["phase_label"] and c["phase_label_en"] and c["kind_label"] for c in listed)


async def test_a_visits_callbacks(client, tenant):
    customer_id, vehicle_id, _ = await delivered_customer(tenant, tenant.store_a)
    visit_id = await make_visit(tenant, tenant.store_a, customer_id, vehicle_id, clock.now())
    r = await client.get(f"/api/v1/visits/{visit_id}/callbacks", headers=await tenant.headers("store_cr_manager@A"))
    assert r.status_code == 200, r.text
    assert {c["kind"] for c in r.json()["items"]} == set(await callbacks_of("service_visit", visit_id))
    assert all(c["phase"] == "planned" for c in r.json()["items"])


async def test_other_stores_and_groups_answer_404_and_staff_403(client, tenant, other_tenant):
    _, _, sale_id = await delivered_customer(tenant, tenant.store_a)
    r = await client.get(f"/api/v1/sales/{sale_id}/callbacks", headers=await tenant.headers("store_gm@B"))
    assert r.status_code == 404
    r = await client.get(f"/api/v1/sales/{sale_id}/callbacks", headers=await other_tenant.headers("group_admin"))
    assert r.status_code == 404
    r = await client.get(f"/api/v1/visits/{sale_id}/callbacks", headers=await other_tenant.headers("group_admin"))
    assert r.status_code == 404
    assert (await client.get(f"/api/v1/sales/{sale_id}/callbacks",
                             headers=await tenant.headers("group_admin"))).status_code == 200
    assert (await client.get(f"/api/v1/sales/{sale_id}/callbacks",
                             headers=await tenant.headers("staff@A"))).status_code == 403
