"""The DMS webhook: signed deliveries and visits become records whose callbacks are planned; replays change nothing."""

from __future__ import annotations

import json
from datetime import timedelta


from crm import clock
from crm.callbacks.dms import sign
from crm.callbacks.tables import Callback
from crm.customers.tables import Customer, Sale, ServiceVisit
from tests.support.builders import make_mobile, make_vin
from tests.support.callbacks import callbacks_of

WEBHOOK = "/api/v1/dms/webhook"


async def issue(client, tenant, who="store_gm@A", store_id=None) -> dict:
    r = await client.post("/api/v1/dms/keys", params={"store_id": store_id or tenant.store_a},
                          headers=await tenant.headers(who))
    assert r.status_code == 201, r.text
    return r.json()


async def push(client, key: dict, event: dict, *, timestamp: int | None = None, secret: str | None = None):
    body = json.dumps(event, ensure_ascii=False).encode()
    stamp = str(timestamp if timestamp is not None else int(clock.now().timestamp()))
    headers = {"X-DMS-Key": key["key_id"], "X-DMS-Timestamp": stamp,
               "X-DMS-Signature": sign(secret or key["secret"], stamp, body), "Content-Type": "application/json"}
    return await client.post(WEBHOOK, content=body, headers=headers)


def delivery_event(event_id: str, *, vin: str, order_no: str, delivered_at, action="recorded", mobile=None) -> dict:
    return {
        "event_id": event_id, "event": f"delivery.{action}",
        "customer": {"name": "周杰", "mobile": mobile or make_mobile(), "gender": "male"},
        "vehicle": {"vin": vin, "plate": "沪A8D888", "brand": "大众", "model": "途观L"},
        "delivery": {"order_no": order_no, "delivered_at": delivered_at.isoformat(), "salesperson": "吴磊"},
    }


async def test_signed_delivery_is_recorded_once_and_plans_its_callbacks(client, tenant):
    key = await issue(client, tenant)
    vin = make_vin()
    event = delivery_event("E-1", vin=vin, order_no="DMS-SO-1", delivered_at=clock.now() - timedelta(minutes=10))
    r = await push(client, key, event)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "applied"
    sale_id = r.json()["sale_id"]
    sale = await Sale.select().where(Sale.id == sale_id).first()
    assert sale["store"] == tenant.store_a and sale["source"] == "dms" and sale["salesperson"] == "吴磊"
    customer = await Customer.select().where(Customer.id == sale["customer"]).first()
    assert customer["name"] == "周杰" and customer["source"] == "dms"
    assert set(await callbacks_of("sale", sale_id)) == {"delivery_care_2h", "delivery_followup_3d",
                                                        "delivery_care_7d", "runin_reminder"}
    again = await push(client, key, event)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert await Sale.count().where(Sale.order_no == "DMS-SO-1", Sale.store == tenant.store_a) == 1


async def test_change_and_cancel_move_and_cancel_the_callbacks(client, tenant):
    key = await issue(client, tenant)
    vin, now = make_vin(), clock.now()
    sale_id = (await push(client, key, delivery_event("E-1", vin=vin, order_no="SO-2",
                                                      delivered_at=now - timedelta(hours=3)))).json()["sale_id"]
    before = await callbacks_of("sale", sale_id)
    changed = await push(client, key, delivery_event("E-2", vin=vin, order_no="SO-2", delivered_at=now,
                                                     action="changed"))
    assert changed.status_code == 200, changed.text
    after = await callbacks_of("sale", sale_id)
    assert after["delivery_care_7d"]["anchor_at"] == now
    assert after["delivery_care_7d"]["due_at"] > before["delivery_care_7d"]["due_at"]
    cancelled = await push(client, key, delivery_event("E-3", vin=vin, order_no="SO-2", delivered_at=now,
                                                       action="cancelled"))
    assert cancelled.status_code == 200
    assert {c["state"] for c in (await callbacks_of("sale", sale_id)).values()} == {"cancelled"}


async def test_service_visit_pushed_by_the_dms(client, tenant):
    key = await issue(client, tenant, "store_gm@B", tenant.store_b)
    left = clock.now() - timedelta(hours=1)
    event = {
        "event_id": "V-1", "event": "service_visit.recorded",
        "customer": {"name": "郑爽", "mobile": make_mobile(), "gender": "female"},
        "vehicle": {"vin": make_vin(), "plate": "粤B66666"},
        "service_visit": {"repair_order_no": "RO-77", "left_at": left.isoformat(),
                          "arrived_at": (left - timedelta(hours=2)).isoformat(), "advisor": "何炅",
                          "repair_type": "repair", "mileage": 23000,
                          "next_visit_on": (left + timedelta(days=150)).date().isoformat()},
    }
    r = await push(client, key, event)
    assert r.status_code == 200, r.text
    visit = await ServiceVisit.select().where(ServiceVisit.id == r.json()["visit_id"]).first()
    assert visit["store"] == tenant.store_b and visit["advisor"] == "何炅"
    assert set(await callbacks_of("service_visit", visit["id"])) == {"service_callback_3d", "next_maintenance_reminder"}


async def test_unsigned_forged_stale_or_revoked_requests_are_401_and_write_nothing(client, tenant, other_tenant):
    key = await issue(client, tenant)
    event = delivery_event("E-9", vin=make_vin(), order_no="SO-9", delivered_at=clock.now())
    assert (await client.post(WEBHOOK, json=event)).status_code == 401
    assert (await push(client, key, event, secret="not-the-secret")).status_code == 401
    assert (await push(client, key, event, timestamp=int(clock.now().timestamp()) - 3600)).status_code == 401
    assert (await push(client, {**key, "key_id": "dms_unknown"}, event)).status_code == 401
    r = await client.delete(f"/api/v1/dms/keys/{key['key_id']}", headers=await tenant.headers("store_gm@A"))
    assert r.status_code == 204
    revoked = await push(client, key, event)
    assert revoked.status_code == 401 and revoked.json()["detail_zh"] == "DMS密钥无效"
    assert await Sale.count().where(Sale.order_no == "SO-9") == 0


async def test_invalid_payload_is_400_with_fields_and_writes_nothing(client, tenant):
    key = await issue(client, tenant)
    bad_vin = delivery_event("E-5", vin="LSVAU2180N2000000", order_no="SO-5", delivered_at=clock.now())
    r = await push(client, key, bad_vin)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "vin"
    missing = {"event_id": "E-6", "event": "delivery.recorded", "customer": {"name": "x"},
               "vehicle": {"vin": make_vin()}}
    r = await push(client, key, missing)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "delivery"
    unknown = {**delivery_event("E-7", vin=make_vin(), order_no="SO-7", delivered_at=clock.now()), "extra": 1}
    assert (await push(client, key, unknown)).status_code == 400
    assert await Sale.count().where(Sale.order_no.is_in(["SO-5", "SO-6", "SO-7"])) == 0
    # The rejected event ids were not used up: a corrected resend is applied.
    fixed = delivery_event("E-5", vin=make_vin(), order_no="SO-5", delivered_at=clock.now())
    assert (await push(client, key, fixed)).json()["status"] == "applied"
    assert await Callback.count().where(Callback.store == tenant.store_a) > 0


async def test_key_endpoints_are_404_across_stores_and_groups(client, tenant, other_tenant):
    key = await issue(client, tenant)
    for headers in (await tenant.headers("store_gm@B"), await other_tenant.headers("group_admin")):
        assert (await client.get("/api/v1/dms/keys", params={"store_id": tenant.store_a},
                                 headers=headers)).status_code == 404
        assert (await client.post("/api/v1/dms/keys", params={"store_id": tenant.store_a},
                                  headers=headers)).status_code == 404
        assert (await client.delete(f"/api/v1/dms/keys/{key['key_id']}", headers=headers)).status_code == 404
    listed = (await client.get("/api/v1/dms/keys", params={"store_id": tenant.store_a},
                               headers=await tenant.headers("group_admin"))).json()["items"]
    assert [k["key_id"] for k in listed] == [key["key_id"]] and "secret" not in listed[0]
    assert (await client.post("/api/v1/dms/keys", params={"store_id": tenant.store_a},
                              headers=await tenant.headers("callback_agent@A"))).status_code == 403
