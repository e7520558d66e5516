"""Every forbidden transition answers 409 with the allowed ones; every endpoint hides other tenants' complaints."""

from __future__ import annotations

from crm.complaints import workflow
from tests.support.complaints import API, detail, handle_to_resolved, intake, step
from tests.support.builders import customer_with_car

# What can start from each state (a complaint the group took, unless marked "store").
ALLOWED = {
    "received": {"reroute", "accept", "add_note", "set_urgency"},
    "accepted": {"reroute", "assign", "file_appeal", "add_note", "set_urgency"},
    "assigned": {"assign", "analyse", "file_appeal", "add_note", "set_urgency"},
    "analysed": {"analyse", "countermeasure", "file_appeal", "request_compensation", "decide_compensation", "add_note",
                 "set_urgency"},
    "countermeasure": {"countermeasure", "resolve", "request_compensation", "decide_compensation", "add_note",
                       "set_urgency"},
    # Once the handling is complete the result report is owed (until submitted) whatever the complaint's state.
    "resolved": {"feed_back", "add_note", "set_urgency", "submit_report"},
    "resolved/store": {"revisit", "add_note", "set_urgency", "submit_report"},
    "fed_back": {"revisit", "add_note", "set_urgency", "submit_report"},
    "revisited": {"close", "reopen", "add_note", "set_urgency", "submit_report"},
    "closed": {"reopen", "submit_report"},
    "reopened": {"assign", "analyse", "add_note", "set_urgency"},
    "appealed": {"forward_appeal", "decline_appeal", "add_note", "set_urgency"},
    "appeal_forwarded": {"rule_appeal", "add_note", "set_urgency"},
    "voided": set(),
}


def probes(tenant) -> dict[str, tuple[str, dict]]:
    """One valid request per action (valid bodies: what is refused is the state, not the input)."""
    return {
        "reroute": ("reroute", {"store_id": tenant.store_b}),
        "accept": ("accept", {}),
        "assign": ("assign", {"handler_user_id": tenant.users["department_head@A"], "department": "service"}),
        "analyse": ("analyse", {"cause_category": "service", "department": "service", "liability": "liable"}),
        "countermeasure": ("countermeasure", {"countermeasure": "对策"}),
        "resolve": ("resolve", {"resolution": "结果", "improvement_measures": "改善"}),
        "feed_back": ("feed-back", {}),
        "revisit": ("revisit", {"satisfied": True}),
        "close": ("close", {}),
        "reopen": ("reopen", {"reason": "原因"}),
        "file_appeal": ("appeal", {"reason": "理由"}),
        "forward_appeal": ("appeal/forward", {}),
        "decline_appeal": ("appeal/decline", {"opinion": "不予提报"}),
        "rule_appeal": ("appeal/ruling", {"upheld": False}),
        "request_compensation": ("compensations", {"amount": "100", "kind": "cash"}),
        "decide_compensation": ("compensations/999999/decision", {"approve": True}),
        "add_note": ("notes", {"note": "备注"}),
        "submit_report": ("report", {"result": "结果", "improvement_measures": "改善"}),
        "check_report": ("report/check", {"accepted": True}),
        "set_urgency": ("urgency", {"urgency": "urgent"}),
    }


async def assert_only_allowed(client, tenant, cid: int, label: str) -> None:
    state = label.split("/")[0]
    got = await detail(client, tenant, "hq_viewer", cid)
    assert got["summary"]["state"] == state
    headers = await tenant.headers("store_gm@A")
    for action, (path, body) in probes(tenant).items():
        if action in ALLOWED[label]:
            continue
        r = await client.post(f"{API}/{cid}/{path}", json=body, headers=headers)
        assert r.status_code == 409, (label, action, r.text)
        answer = r.json()
        assert (answer["state"], answer["action"]) == (state, action)
        assert set(answer["allowed"]) == ALLOWED[label], (label, answer["allowed"])
        assert answer["detail_zh"]


async def test_every_forbidden_transition_is_409_with_the_allowed_ones(client, tenant):
    assert set(workflow.ACTIONS) == set(probes(tenant))
    car = await customer_with_car(tenant, "A")
    gm, cr, head, cs = "store_gm@A", "store_cr_manager@A", "department_head@A", "group_customer_service"

    cid = await intake(client, tenant, car)
    await assert_only_allowed(client, tenant, cid, "received")
    await step(client, tenant, cr, cid, "accept")
    await assert_only_allowed(client, tenant, cid, "accepted")
    await step(client, tenant, cr, cid, *probes(tenant)["assign"])
    await assert_only_allowed(client, tenant, cid, "assigned")
    await step(client, tenant, head, cid, *probes(tenant)["analyse"])
    await assert_only_allowed(client, tenant, cid, "analysed")
    await step(client, tenant, head, cid, *probes(tenant)["countermeasure"])
    await assert_only_allowed(client, tenant, cid, "countermeasure")
    await step(client, tenant, head, cid, *probes(tenant)["resolve"])
    await assert_only_allowed(client, tenant, cid, "resolved")
    await step(client, tenant, cr, cid, "feed-back")
    await assert_only_allowed(client, tenant, cid, "fed_back")
    await step(client, tenant, cs, cid, "revisit", {"satisfied": True})
    await assert_only_allowed(client, tenant, cid, "revisited")
    await step(client, tenant, cs, cid, "close")
    await assert_only_allowed(client, tenant, cid, "closed")
    await step(client, tenant, cs, cid, "reopen", {"reason": "再次投诉"})
    await assert_only_allowed(client, tenant, cid, "reopened")

    appealed = await intake(client, tenant, car, accused_user_id=tenant.users["staff@A"])
    await step(client, tenant, cr, appealed, "accept")
    await step(client, tenant, "staff@A", appealed, "appeal", {"reason": "不是我"})
    await assert_only_allowed(client, tenant, appealed, "appealed")
    await step(client, tenant, "department_head@A", appealed, "appeal/forward")
    await assert_only_allowed(client, tenant, appealed, "appeal_forwarded")
    await step(client, tenant, gm, appealed, "appeal/ruling", {"upheld": True})
    await assert_only_allowed(client, tenant, appealed, "voided")

    walk_in = await intake(client, tenant, car, who=cr, channel="walk_in")
    await handle_to_resolved(client, tenant, walk_in)
    await assert_only_allowed(client, tenant, walk_in, "resolved/store")


async def test_roles_are_checked_after_the_state(client, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)
    # Right state, wrong role: 403 (the caller sees the complaint, so no need to hide it).
    await step(client, tenant, "callback_agent@A", cid, "accept", expect=403)
    await step(client, tenant, "store_cr_manager@A", cid, "reroute", {"store_id": tenant.store_b}, expect=403)
    await step(client, tenant, "hq_viewer", cid, "accept", expect=403)


async def test_other_stores_and_groups_get_404_on_every_endpoint(client, tenant, other_tenant):
    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)
    outsiders = [
        (tenant, "store_cr_manager@B"),
        (tenant, "store_gm@C"),
        (tenant, "brand_manager@div2"),  # a brand division sees only its own stores
        (other_tenant, "call_center_agent"),
        (other_tenant, "hq_viewer"),
        (other_tenant, "group_admin"),
    ]
    gets = ["", "/timeline", "/staff"]
    for owner, who in outsiders:
        headers = await owner.headers(who)
        for suffix in gets:
            r = await client.get(f"{API}/{cid}{suffix}", headers=headers)
            assert r.status_code == 404, (who, suffix, r.text)
        for action, (path, body) in probes(tenant).items():
            if action == "reroute":
                body = {"store_id": owner.store_b}
            r = await client.post(f"{API}/{cid}/{path}", json=body, headers=headers)
            assert r.status_code == 404, (who, action, r.text)
        listed = (await client.get(API, headers=headers)).json()
        assert cid not in [c["id"] for c in listed["items"]]
        queue = await client.get(f"{API}/revisit-queue", headers=headers)
        # Roles that do not revisit (or take complaints) are refused outright, like the pages refuse them.
        assert queue.status_code == 403 or cid not in [c["id"] for c in queue.json()["items"]]
        suggestion = await client.get(f"{API}/routing-suggestion", params={"customer_id": car.customer_id},
                                      headers=headers)
        assert suggestion.status_code in (403, 404)

    other = await other_tenant.headers("call_center_agent")
    # Another group's customer or store in a request body: a field error, nothing written.
    r = await client.post(API, json={"channel": "hotline_400", "content": "x", "customer_id": car.customer_id},
                          headers=other)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "customer_id"
    other_car = await customer_with_car(other_tenant, "A")
    r = await client.post(API, json={"channel": "hotline_400", "content": "x", "customer_id": other_car.customer_id,
                                     "store_id": tenant.store_a}, headers=other)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "store_id"
    mine = await intake(client, tenant, car)
    r = await client.post(f"{API}/{mine}/reroute", json={"store_id": other_tenant.store_a},
                          headers=await tenant.headers("call_center_agent"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "store_id"
    r = await client.get(f"{API}/accountability", params={"month": "2026-11", "store_id": tenant.store_a},
                         headers=await other_tenant.headers("hq_viewer"))
    assert r.status_code == 404
    stats = (await client.get(f"{API}/deadline-stats", headers=await other_tenant.headers("hq_viewer"))).json()
    assert tenant.store_a not in [s["store_id"] for s in stats["items"]] and stats["total"] == len(stats["items"])


async def test_policy_and_authority_belong_to_the_group(client, tenant, other_tenant):
    mine = await tenant.headers("group_admin")
    theirs = await other_tenant.headers("group_admin")
    r = await client.put(f"{API}/policy", json={"accept_working_hours": 4}, headers=theirs)
    assert r.status_code == 200, r.text
    assert (await client.get(f"{API}/policy", headers=mine)).json()["accept_working_hours"] == 2
    assert (await client.get(f"{API}/policy", headers=theirs)).json()["accept_working_hours"] == 4
    bad = await client.put(f"{API}/policy", json={"accept_working_hours": 0}, headers=mine)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "accept_working_hours"
    assert (await client.put(f"{API}/policy", json={}, headers=await tenant.headers("store_gm@A"))).status_code == 403


async def test_the_timeline_cannot_be_changed(client, tenant):
    import pytest

    from crm.complaints.tables import ComplaintEvent

    car = await customer_with_car(tenant, "A")
    cid = await intake(client, tenant, car)
    with pytest.raises(Exception, match="append-only"):
        await ComplaintEvent.update({ComplaintEvent.note: "改写历史"}).where(ComplaintEvent.complaint == cid)
    assert [e["note"] for e in await ComplaintEvent.select(ComplaintEvent.note).where(ComplaintEvent.complaint == cid)] == [""]


async def test_other_areas_hear_of_new_complaints_and_every_step(client, tenant):
    from crm.complaints import events

    created, changed = [], []

    async def on_created(**kw):
        created.append(kw)

    async def on_changed(**kw):
        changed.append(kw)

    events.complaint_created.connect(on_created)
    events.complaint_state_changed.connect(on_changed)
    try:
        car = await customer_with_car(tenant, "A")
        cid = await intake(client, tenant, car, channel="manufacturer")
        await step(client, tenant, "store_cr_manager@A", cid, "accept")
    finally:
        events.complaint_created.disconnect(on_created)
        events.complaint_state_changed.disconnect(on_changed)
    assert created == [{
        "group_id": tenant.group_id, "store_id": tenant.store_a, "complaint_id": cid, "channel": "manufacturer",
        "customer_id": car.customer_id, "customer_identity_id": created[0]["customer_identity_id"],
        "vehicle_id": car.vehicle_id,
    }]
    assert [(c["action"], c["from_state"], c["to_state"]) for c in changed] == [("accept", "received", "accepted")]
    assert changed[0]["actor_user_id"] == tenant.users["store_cr_manager@A"]


async def test_the_state_machine_is_published(client, tenant):
    r = await client.get(f"{API}/workflow", headers=await tenant.headers("staff@A"))
    assert r.status_code == 200
    actions = {a["action"]: a for a in r.json()["actions"]}
    assert actions["accept"]["from"] == ["received"] and actions["accept"]["to"] == ["accepted"]
    assert actions["revisit"]["from_when_taken_by_group"] == ["fed_back"]
    assert actions["file_appeal"]["accused_only"] is True
    assert {s["state"] for s in r.json()["states"]} >= {"received", "closed", "voided", "reopened"}
