"""PATCH changes only the settings given (PUT replaces them all): the complaint deadlines, the callback targets
and a callback rule; the same checks and roles as PUT, and another group's settings are untouched."""

from __future__ import annotations

POLICY = "/api/v1/complaints/policy"
TARGETS = "/api/v1/callbacks/targets"


async def test_patch_policy_keeps_the_fields_left_out(client, tenant, other_tenant):
    admin = await tenant.headers("group_admin")
    r = await client.put(POLICY, json={"accept_working_hours": 4, "revisit_days": 5}, headers=admin)
    assert r.status_code == 200, r.text
    r = await client.patch(POLICY, json={"feedback_hours": 12}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["feedback_hours"] == 12 and r.json()["accept_working_hours"] == 4 and r.json()["revisit_days"] == 5
    assert (await client.get(POLICY, headers=admin)).json() == r.json()
    # The same checks as PUT, all named; nothing written.
    bad = await client.patch(POLICY, json={"urgent_accept_working_hours": 9}, headers=admin)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "urgent_accept_working_hours"
    bad = await client.patch(POLICY, json={"revisit_days": 0, "nope": 1}, headers=admin)
    assert bad.status_code == 400
    assert (await client.get(POLICY, headers=admin)).json()["feedback_hours"] == 12
    assert (await client.patch(POLICY, json={"feedback_hours": 6},
                               headers=await tenant.headers("store_gm@A"))).status_code == 403
    theirs = (await client.get(POLICY, headers=await other_tenant.headers("group_admin"))).json()
    assert theirs["feedback_hours"] == 24 and theirs["accept_working_hours"] == 2


async def test_patch_targets_and_rules(client, tenant, other_tenant):
    admin, gm = await tenant.headers("group_admin"), await tenant.headers("store_gm@A")
    r = await client.patch(TARGETS, json={"satisfaction_rate_pct": 95}, headers=admin)
    assert r.status_code == 200 and r.json() == {"callback_rate": 1.0, "satisfaction_rate": 0.95, "level": "group"}
    r = await client.patch(TARGETS, params={"store_id": tenant.store_a}, json={"callback_rate_pct": 98}, headers=gm)
    assert r.json() == {"callback_rate": 0.98, "satisfaction_rate": 0.95, "level": "store"}
    assert (await client.patch(TARGETS, params={"store_id": tenant.store_a}, json={"callback_rate_pct": 90},
                               headers=await other_tenant.headers("group_admin"))).status_code == 404
    r = await client.patch("/api/v1/callbacks/rules/delivery_care_2h", params={"store_id": tenant.store_a},
                           json={"offset_minutes": 180}, headers=gm)
    assert r.status_code == 200 and r.json()["offset_minutes"] == 180 and r.json()["enabled"] is True
