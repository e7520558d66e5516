"""Complaints through the API: intake to close, reopen, appeal, compensation, the accused-handler rule."""

from __future__ import annotations

from tests.support.complaints import API, intake, step, detail, handle_to_resolved

import asyncio
from zoneinfo import ZoneInfo

from crm import clock
from crm.complaints import service
from crm.complaints.tables import Complaint
from crm.notify.tables import Notification
from tests.support.builders import ago, customer_with_car, sale, same_car_at, visit


async def test_call_center_complaint_from_intake_to_close(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)

    got = await detail(client, tenant, "call_center_agent", cid)
    assert got["summary"]["state"] == "received"
    assert got["summary"]["store_id"] == tenant.store_a
    assert got["summary"]["due_kind"] == "accept"
    assert got["summary"]["plate"] == car.plate
    # The store's customer-relations manager is told at once.
    told = await Notification.select(Notification.recipient).where(
        Notification.kind == "complaint.routed", Notification.link == f"/complaints/{cid}"
    )
    assert {r["recipient"] for r in told} == {tenant.users["store_cr_manager@A"]}

    inbox = (await client.get(API, headers=await tenant.headers("store_cr_manager@A"))).json()
    assert [c["id"] for c in inbox["items"]] == [cid] and inbox["total"] == 1
    assert (await detail(client, tenant, "store_cr_manager@A", cid))["actions"] == ["accept", "add_note", "set_urgency"]

    await step(client, tenant, "store_cr_manager@A", cid, "accept")
    resolved = await handle_to_resolved(client, tenant, cid)
    assert await Notification.count().where(
        Notification.kind == "complaint.assigned", Notification.recipient == tenant.users["department_head@A"]
    ) == 1
    assert resolved["summary"]["state"] == "resolved"
    assert resolved["summary"]["due_kind"] == "feedback"

    await step(client, tenant, "store_cr_manager@A", cid, "feed-back", {"note": "已处理,客户基本认可"})
    queue = (await client.get(f"{API}/revisit-queue", headers=await tenant.headers("group_customer_service"))).json()
    assert cid in [c["id"] for c in queue["items"]]
    revisited = await step(client, tenant, "group_customer_service", cid, "revisit",
                           {"satisfied": True, "note": "客户对处理结果满意"})
    assert revisited["summary"]["state"] == "revisited"
    closed = await step(client, tenant, "group_customer_service", cid, "close")
    assert closed["summary"]["state"] == "closed"
    assert closed["summary"]["due_at"] is None

    timeline = (await client.get(f"{API}/{cid}/timeline", headers=await tenant.headers("hq_viewer"))).json()["items"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in timeline] == [
        ("create", "", "received"),
        ("accept", "received", "accepted"),
        ("assign", "accepted", "assigned"),
        ("analyse", "assigned", "analysed"),
        ("countermeasure", "analysed", "countermeasure"),
        ("resolve", "countermeasure", "resolved"),
        ("feed_back", "resolved", "fed_back"),
        ("revisit", "fed_back", "revisited"),
        ("close", "revisited", "closed"),
    ]
    assert timeline[1]["actor_user_id"] == tenant.users["store_cr_manager@A"]
    assert all(e["actor_name"] for e in timeline)
    newest = (await client.get(f"{API}/{cid}/timeline", params={"sort": "-at", "page_size": 3},
                               headers=await tenant.headers("hq_viewer"))).json()
    assert (newest["total"], newest["pages"], newest["sort"]) == (len(timeline), -(-len(timeline) // 3), "-at")
    assert [e["action"] for e in newest["items"]] == ["close", "revisit", "feed_back"]


async def test_routing_prefers_the_store_that_last_serviced_the_car(client, tenant):
    car = await customer_with_car(tenant, "A")
    await sale(tenant, car, ago(days=300))
    at_b = await same_car_at(tenant, car, "B")
    await visit(tenant, at_b, ago(days=10))
    headers = await tenant.headers("call_center_agent")
    r = await client.get(f"{API}/routing-suggestion", params={"customer_id": car.customer_id,
                                                             "vehicle_id": car.vehicle_id}, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["store_id"], r.json()["reason"]) == (tenant.store_b, "last_service_visit")

    without_car = await client.get(f"{API}/routing-suggestion", params={"customer_id": car.customer_id},
                                   headers=headers)
    assert (without_car.json()["store_id"], without_car.json()["reason"]) == (tenant.store_a, "home_store")

    cid = await intake(client, tenant, car)
    row = await Complaint.select(Complaint.store, Complaint.customer).where(Complaint.id == cid).first()
    assert row["store"] == tenant.store_b
    # The complaint links the customer's profile at store B, so B's staff can open it.
    assert row["customer"] == at_b.customer_id

    overridden = await intake(client, tenant, car, store_id=tenant.store_c)
    created = (await client.get(f"{API}/{overridden}/timeline", headers=headers)).json()["items"][0]
    assert created["data"]["routing"] == "override"
    assert created["data"]["suggested_store_id"] == tenant.store_b


async def test_reroute_is_recorded_and_the_new_store_is_told(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)
    moved = await step(client, tenant, "call_center_agent", cid, "reroute",
                       {"store_id": tenant.store_b, "note": "客户在B店维修"})
    assert moved["summary"]["store_id"] == tenant.store_b
    assert moved["timeline"][-1]["data"] == {"from_store_id": tenant.store_a, "to_store_id": tenant.store_b}
    # The old store no longer sees it; the new one sees its whole history.
    r = await client.get(f"{API}/{cid}", headers=await tenant.headers("store_cr_manager@A"))
    assert r.status_code == 404
    assert len((await detail(client, tenant, "store_cr_manager@B", cid))["timeline"]) == 2
    told = await Notification.select(Notification.recipient).where(
        Notification.kind == "complaint.routed", Notification.link == f"/complaints/{cid}"
    )
    assert {r["recipient"] for r in told} == {tenant.users["store_cr_manager@A"], tenant.users["store_cr_manager@B"]}


async def test_unsatisfied_revisit_reopens_at_the_store_and_counts(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)
    await step(client, tenant, "store_cr_manager@A", cid, "accept")
    await handle_to_resolved(client, tenant, cid)
    await step(client, tenant, "store_cr_manager@A", cid, "feed-back")
    reopened = await step(client, tenant, "group_customer_service", cid, "revisit",
                          {"satisfied": False, "note": "客户表示异响仍在"})
    assert reopened["summary"]["state"] == "reopened"
    assert reopened["summary"]["reopen_count"] == 1
    assert reopened["revisit_satisfied"] is False
    assert await Notification.count().where(
        Notification.kind == "complaint.reopened", Notification.recipient == tenant.users["store_cr_manager@A"]
    ) == 1

    # The cause is re-identified and handled again, then the customer is satisfied.
    head = "department_head@A"
    await step(client, tenant, head, cid, "analyse",
               {"cause_category": "product", "department": "service", "liability": "not_liable"})
    await step(client, tenant, head, cid, "countermeasure", {"countermeasure": "申请厂家技术支持更换部件"})
    await step(client, tenant, head, cid, "resolve", {"resolution": "已更换", "improvement_measures": "跟踪同类故障"})
    await step(client, tenant, "store_cr_manager@A", cid, "feed-back")
    await step(client, tenant, "group_customer_service", cid, "revisit", {"satisfied": True})
    await step(client, tenant, "group_customer_service", cid, "close")

    # A closed complaint can be reopened again; the count keeps rising.
    again = await step(client, tenant, "group_customer_service", cid, "reopen", {"reason": "客户再次来电"})
    assert (again["summary"]["state"], again["summary"]["reopen_count"]) == ("reopened", 2)


async def test_walk_in_at_the_store_is_revisited_by_the_store(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car, who="store_cr_manager@A", channel="walk_in")
    got = await detail(client, tenant, "store_cr_manager@A", cid)
    # A store manager registering a walk-in has accepted it.
    assert got["summary"]["state"] == "accepted"
    assert got["summary"]["via_group"] is False
    await handle_to_resolved(client, tenant, cid)
    resolved = await detail(client, tenant, "callback_agent@A", cid)
    assert resolved["summary"]["due_kind"] == "revisit"
    assert resolved["actions"] == ["revisit", "add_note"]
    queue = (await client.get(f"{API}/revisit-queue", headers=await tenant.headers("callback_agent@A"))).json()
    assert [c["id"] for c in queue["items"]] == [cid]
    await step(client, tenant, "store_cr_manager@A", cid, "feed-back", expect=409)
    await step(client, tenant, "callback_agent@A", cid, "revisit", {"satisfied": True})
    await step(client, tenant, "callback_agent@A", cid, "close")


async def test_a_staff_member_walk_in_waits_for_the_store_manager(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car, who="staff@A", channel="walk_in")
    assert (await detail(client, tenant, "store_cr_manager@A", cid))["summary"]["state"] == "received"


async def test_integration_retry_with_the_same_reference_records_once(client, tenant):
    car = await customer_with_car(tenant, "A")
    first = await intake(client, tenant, car, channel="manufacturer", external_ref="FTMS-2026-000123")
    second = await intake(client, tenant, car, channel="manufacturer", external_ref="FTMS-2026-000123")
    assert first == second
    assert await Complaint.count().where(Complaint.external_ref == "FTMS-2026-000123",
                                         Complaint.group == tenant.group_id) == 1


async def test_concurrent_deliveries_of_one_message_record_one_complaint(tenant):
    car = await customer_with_car(tenant, "A")
    actor = await tenant.scope("call_center_agent")

    async def deliver() -> int:
        return await service.create_complaint(
            actor=actor, customer_id=car.customer_id, vehicle_id=car.vehicle_id, channel="manufacturer",
            content="厂家转来:客户反映变速箱顿挫", external_ref="FTMS-2026-000777",
        )

    ids = await asyncio.gather(*(deliver() for _ in range(4)))
    assert len(set(ids)) == 1
    assert await Complaint.count().where(Complaint.external_ref == "FTMS-2026-000777",
                                         Complaint.group == tenant.group_id) == 1
    # The same reference on another channel is another message.
    other = await service.create_complaint(
        actor=actor, customer_id=car.customer_id, channel="email", content="邮件投诉", external_ref="FTMS-2026-000777",
    )
    assert other != ids[0]


async def test_intake_of_a_new_caller_creates_a_minimal_customer(client, tenant):
    r = await client.post(API, json={
        "channel": "hotline_400", "content": "销售承诺的赠品未兑现", "store_id": tenant.store_b,
        "new_customer_name": "李四", "new_customer_mobile": "13812345678",
    }, headers=await tenant.headers("call_center_agent"))
    assert r.status_code == 201, r.text
    got = await detail(client, tenant, "store_cr_manager@B", r.json()["id"])
    assert (got["summary"]["complainant_name"], got["summary"]["complainant_phone"]) == ("李四", "13812345678")


async def test_a_store_walk_in_of_a_new_customer_stays_at_the_store(client, tenant):
    r = await client.post(API, json={
        "channel": "walk_in", "content": "展厅等候区空调太冷", "new_customer_name": "赵六",
        "new_customer_mobile": "13912345670",
    }, headers=await tenant.headers("staff@B"))
    assert r.status_code == 201, r.text
    got = await detail(client, tenant, "store_cr_manager@B", r.json()["id"])
    assert (got["summary"]["store_id"], got["summary"]["via_group"]) == (tenant.store_b, False)


async def test_intake_validation_names_fields_and_writes_nothing(client, tenant):
    car = await customer_with_car(tenant, "A")
    before = await Complaint.count().where(Complaint.group == tenant.group_id)
    bad = await intake(client, tenant, car, expect=400, channel="pigeon")
    assert bad["errors"][0]["field"] == "channel"
    empty = await intake(client, tenant, car, expect=400, content="")
    assert empty["errors"][0]["field"] == "content"
    wrong_car = await customer_with_car(tenant, "A", name="王五")
    mismatch = await intake(client, tenant, car, expect=400, vehicle_id=wrong_car.vehicle_id)
    assert mismatch["errors"][0]["field"] == "vehicle_id"
    unknown = await intake(client, tenant, car, expect=400, store_id=999_999)
    assert unknown["errors"][0]["field"] == "store_id"
    new_without_store = await client.post(API, json={
        "channel": "hotline_400", "content": "x", "new_customer_name": "李四", "new_customer_mobile": "13812345678",
    }, headers=await tenant.headers("call_center_agent"))
    assert new_without_store.status_code == 400
    assert await Complaint.count().where(Complaint.group == tenant.group_id) == before


async def test_roles_that_may_not_take_complaints(client, tenant):
    car = await customer_with_car(tenant, "A")
    await intake(client, tenant, car, who="hq_viewer", expect=403)
    await intake(client, tenant, car, who="legal", expect=403)


async def test_the_accused_may_never_handle(client, tenant):
    car = await customer_with_car(tenant, "A")
    accused = tenant.users["staff@A"]
    cid = await intake(client, tenant, car, accused_user_id=accused)
    await step(client, tenant, "store_cr_manager@A", cid, "accept")
    refused = await step(client, tenant, "store_cr_manager@A", cid, "assign",
                         {"handler_user_id": accused, "department": "service"}, expect=400)
    assert refused["errors"][0]["field"] == "handler_user_id"
    head = tenant.users["department_head@A"]
    await step(client, tenant, "store_cr_manager@A", cid, "assign", {"handler_user_id": head, "department": "service"})
    # Naming the handler as the accused is refused too: the handler must change first.
    naming_handler = await step(client, tenant, "department_head@A", cid, "analyse",
                                {"cause_category": "service", "department": "service", "liability": "liable",
                                 "accused_user_id": head}, expect=400)
    assert naming_handler["errors"][0]["field"] == "accused_user_id"
    # The accused sees only the appeal, and every other step is refused.
    assert (await detail(client, tenant, "staff@A", cid))["actions"] == ["file_appeal"]
    body = {"cause_category": "service", "department": "service", "liability": "not_liable"}
    denied = await step(client, tenant, "staff@A", cid, "analyse", body, expect=403)
    assert "被投诉员工" in denied["detail"]
    await step(client, tenant, "staff@A", cid, "notes", {"note": "我没有错"}, expect=403)


async def test_an_accused_manager_cannot_handle_either(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car, accused_user_id=tenant.users["store_cr_manager@A"])
    r = await step(client, tenant, "store_cr_manager@A", cid, "accept", expect=403)
    assert "被投诉员工" in r["detail"]
    await step(client, tenant, "store_gm@A", cid, "accept")


async def test_appeal_rejected_resumes_then_upheld_voids(client, tenant):
    car = await customer_with_car(tenant, "A")
    accused = tenant.users["staff@A"]
    cid = await intake(client, tenant, car, accused_user_id=accused)
    await step(client, tenant, "store_cr_manager@A", cid, "accept")
    await step(client, tenant, "store_cr_manager@A", cid, "assign",
               {"handler_user_id": tenant.users["department_head@A"], "department": "sales"})
    await step(client, tenant, "department_head@A", cid, "appeal", {"reason": "x"}, expect=403)

    appealed = await step(client, tenant, "staff@A", cid, "appeal", {"reason": "当天客户未到店,与我无关"})
    assert appealed["summary"]["state"] == "appealed"
    await step(client, tenant, "store_gm@A", cid, "appeal/forward", expect=403)  # the department head forwards
    forwarded = await step(client, tenant, "department_head@A", cid, "appeal/forward", {"opinion": "情况属实,建议裁决"})
    assert forwarded["appeals"][0]["status"] == "forwarded"
    await step(client, tenant, "department_head@A", cid, "appeal/ruling", {"upheld": True}, expect=403)
    rejected = await step(client, tenant, "store_gm@A", cid, "appeal/ruling", {"upheld": False, "note": "证据不足"})
    assert rejected["summary"]["state"] == "assigned"
    assert rejected["appeals"][0]["status"] == "rejected"

    await step(client, tenant, "department_head@A", cid, "analyse",
               {"cause_category": "service", "department": "sales", "liability": "liable"})
    await step(client, tenant, "staff@A", cid, "appeal", {"reason": "补充证据:监控录像"})
    await step(client, tenant, "department_head@A", cid, "appeal/forward")
    voided = await step(client, tenant, "store_gm@A", cid, "appeal/ruling", {"upheld": True, "note": "录像证明无责"})
    assert voided["summary"]["state"] == "voided"
    assert voided["voided_at"] is not None
    assert voided["appeals"][1]["ruled_by"] == tenant.users["store_gm@A"]
    last = voided["timeline"][-1]
    assert (last["action"], last["to_state"], last["data"]["approver_user_id"]) == (
        "rule_appeal", "voided", tenant.users["store_gm@A"]
    )
    assert voided["actions"] == []


async def test_compensation_follows_the_authority_table(client, tenant):
    admin = await tenant.headers("group_admin")
    table = await client.get(f"{API}/authority", headers=admin)
    assert [t["approver_role"] for t in table.json()["tiers"]] == ["store_cr_manager", "store_gm", "hq_viewer"]
    custom = {"tiers": [{"max_amount": "500", "approver_role": "store_cr_manager"},
                        {"max_amount": "5000", "approver_role": "store_gm"},
                        {"approver_role": "hq_viewer"}]}
    assert (await client.put(f"{API}/authority", json=custom, headers=admin)).status_code == 200
    bad = await client.put(f"{API}/authority", json={"tiers": [{"max_amount": "500", "approver_role": "store_gm"}]},
                           headers=admin)
    assert bad.status_code == 400
    assert (await client.put(f"{API}/authority", json=custom, headers=await tenant.headers("store_gm@A"))).status_code == 403

    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)
    await step(client, tenant, "store_cr_manager@A", cid, "accept")
    await step(client, tenant, "store_cr_manager@A", cid, "assign",
               {"handler_user_id": tenant.users["department_head@A"], "department": "service"})
    await step(client, tenant, "department_head@A", cid, "analyse",
               {"cause_category": "product", "department": "service", "liability": "not_liable"})
    await step(client, tenant, "department_head@A", cid, "countermeasure", {"countermeasure": "补偿保养一次"})
    headers = await tenant.headers("department_head@A")
    big = await client.post(f"{API}/{cid}/compensations", json={"amount": "8000", "kind": "cash"}, headers=headers)
    assert big.status_code == 201, big.text
    small = await client.post(f"{API}/{cid}/compensations", json={"amount": "300", "kind": "service"}, headers=headers)
    got = await detail(client, tenant, "store_gm@A", cid)
    assert [c["required_role"] for c in got["compensations"]] == ["hq_viewer", "store_cr_manager"]

    # Pending compensation blocks the resolution.
    await step(client, tenant, "department_head@A", cid, "resolve",
               {"resolution": "r", "improvement_measures": "m"}, expect=409)
    path = f"compensations/{big.json()['id']}/decision"
    denied = await step(client, tenant, "store_gm@A", cid, path, {"approve": True}, expect=403)
    assert "集团总部" in denied["detail"]
    await step(client, tenant, "hq_viewer", cid, path, {"approve": True, "note": "同意"})
    # A higher tier may approve a lower one's amount; a decided request cannot be decided again.
    small_path = f"compensations/{small.json()['id']}/decision"
    await step(client, tenant, "store_gm@A", cid, small_path, {"approve": False, "note": "改为代金券"})
    await step(client, tenant, "store_cr_manager@A", cid, small_path, {"approve": True}, expect=409)
    done = await step(client, tenant, "department_head@A", cid, "resolve", {"resolution": "r", "improvement_measures": "m"})
    assert [c["status"] for c in done["compensations"]] == ["approved", "rejected"]
    assert done["compensations"][0]["decided_by"] == tenant.users["hq_viewer"]


async def test_accountability_counts_liable_complaints_per_staff_and_month(client, tenant):
    car = await customer_with_car(tenant, "A")
    for _ in range(2):
        cid = await intake(client, tenant, car)
        await step(client, tenant, "store_cr_manager@A", cid, "accept")
        await handle_to_resolved(client, tenant, cid)
    month = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    r = await client.get(f"{API}/accountability", params={"month": month}, headers=await tenant.headers("store_gm@A"))
    assert r.status_code == 200, r.text
    rows = {row["user_id"]: row for row in r.json()["rows"]}
    staff = rows[tenant.users["staff@A"]]
    # 有责 complaints are counted on their own: they do not climb the violation ladder.
    assert (staff["liable_complaints"], staff["violations"], staff["ladder"], staff["dismissal"]) == (2, 0, [], False)
    bad = await client.get(f"{API}/accountability", params={"month": "2026-13"}, headers=await tenant.headers("store_gm@A"))
    assert bad.status_code == 400
    assert (await client.get(f"{API}/accountability", params={"month": month},
                             headers=await tenant.headers("staff@A"))).status_code == 403
