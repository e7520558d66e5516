"""The callbacks API: rules and overrides, queue, claim, outcome, statistics, targets; validation; cross-tenant 404s."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import time_machine

from crm.callbacks.tables import Callback
from tests.support.callbacks import callbacks_of, delivered_customer, fire_callback_timers, make_due

API = "/api/v1/callbacks"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_rules_default_group_override_store_override_and_reset(client, tenant):
    admin, gm = await tenant.headers("group_admin"), await tenant.headers("store_gm@A")
    rules = (await client.get(f"{API}/rules", params={"store_id": tenant.store_a}, headers=gm)).json()["items"]
    care = next(r for r in rules if r["kind"] == "delivery_care_2h")
    assert care["level"] == "default" and care["offset_minutes"] == 120 and care["label_zh"] == "交车后2小时关怀回访"

    r = await client.put(f"{API}/rules/delivery_care_2h", json={"offset_minutes": 180}, headers=admin)
    assert r.status_code == 200 and r.json()["level"] == "group"
    r = await client.put(f"{API}/rules/delivery_care_2h", params={"store_id": tenant.store_a},
                         json={"enabled": False}, headers=gm)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["offset_minutes"] == 180
    # Store A no longer plans the 2-hour call; store B plans it 3 hours after delivery.
    _, _, at_a = await delivered_customer(tenant, tenant.store_a)
    _, _, at_b = await delivered_customer(tenant, tenant.store_b)
    assert "delivery_care_2h" not in await callbacks_of("sale", at_a)
    b_care = (await callbacks_of("sale", at_b))["delivery_care_2h"]
    assert (b_care["due_at"] - b_care["anchor_at"]).total_seconds() >= 3 * 3600

    r = await client.delete(f"{API}/rules/delivery_care_2h", params={"store_id": tenant.store_a}, headers=gm)
    assert r.status_code == 200 and r.json()["level"] == "group" and r.json()["enabled"] is True
    # A store may not change the group's own rule.
    assert (await client.put(f"{API}/rules/delivery_care_2h", json={"enabled": False}, headers=gm)).status_code == 403


async def test_rule_validation_names_fields_and_writes_nothing(client, tenant):
    gm = await tenant.headers("store_gm@A")
    bad = [
        ({"channel": "fax"}, "channel"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"script": "您好{客户}"}, "script"),
        ({"channel": "sms", "survey": "csi"}, "survey"),
        ({"unknown": 1}, "unknown"),
    ]
    for body, field in bad:
        r = await client.put(f"{API}/rules/service_callback_3d", params={"store_id": tenant.store_a}, json=body,
                             headers=gm)
        assert r.status_code == 400, body
        assert field in {e["field"] for e in r.json()["errors"]}
        assert all(e["message_zh"] and e["message_en"] for e in r.json()["errors"])
    rules = (await client.get(f"{API}/rules", params={"store_id": tenant.store_a}, headers=gm)).json()["items"]
    assert all(r["level"] == "default" for r in rules)
    assert (await client.put(f"{API}/rules/no_such_rule", params={"store_id": tenant.store_a}, json={},
                             headers=gm)).status_code == 404


async def test_work_a_call_through_the_api(client, tenant):
    callback_id = await make_due(tenant, name="孙悟空")
    agent = await tenant.headers("callback_agent@A")
    queue = (await client.get(f"{API}/queue", headers=agent)).json()
    assert callback_id in [i["id"] for i in queue["due"] + queue["overdue"]]
    nxt = (await client.post(f"{API}/next", headers=agent)).json()["callback"]
    assert nxt["id"] == callback_id and nxt["claimed_by_me"] and nxt["script"].startswith("您好！孙先生")
    other = await tenant.headers("store_cr_manager@A")
    taken = await client.post(f"{API}/{callback_id}/claim", headers=other)
    assert taken.status_code == 409 and taken.json()["detail_zh"].startswith("该回访已由")
    bad = await client.post(f"{API}/{callback_id}/outcome", json={"outcome": "reached", "scores": {"x": 11}},
                            headers=agent)
    assert bad.status_code == 400
    done = await client.post(f"{API}/{callback_id}/outcome", json={"outcome": "reached", "satisfied": True,
                                                                   "comment": "一切正常"}, headers=agent)
    assert done.status_code == 200 and done.json()["state"] == "done"
    got = (await client.get(f"{API}/{callback_id}", headers=agent)).json()
    assert got["history"][0]["outcome"] == "reached" and got["comment"] == "一切正常"


async def test_release_puts_the_call_back(client, tenant):
    callback_id = await make_due(tenant)
    agent, other = await tenant.headers("callback_agent@A"), await tenant.headers("store_cr_manager@A")
    assert (await client.post(f"{API}/{callback_id}/claim", headers=agent)).status_code == 200
    assert (await client.post(f"{API}/{callback_id}/release", headers=agent)).status_code == 204
    assert (await client.post(f"{API}/{callback_id}/claim", headers=other)).status_code == 200


async def test_statistics_of_a_week(client, tenant):
    wednesday = datetime.combine(date(2026, 6, 10), time(10), tzinfo=SHANGHAI)
    agent_scope = await tenant.scope("callback_agent@B")
    from crm.callbacks import service
    from crm.callbacks.surveys import factor_codes

    with time_machine.travel(wednesday, tick=False):
        sales = [await delivered_customer(tenant, tenant.store_b, delivered_at=wednesday) for _ in range(3)]
        cares = [(await callbacks_of("sale", s))["delivery_care_2h"]["id"] for _, _, s in sales]
        followup = (await callbacks_of("sale", sales[0][2]))["delivery_followup_3d"]["id"]
        await fire_callback_timers(*cares, followup)
    with time_machine.travel(datetime.combine(date(2026, 6, 11), time(11), tzinfo=SHANGHAI), tick=False):
        await service.record_outcome(actor=agent_scope, callback_id=cares[0], outcome="reached", satisfied=True)
        await service.record_outcome(actor=agent_scope, callback_id=cares[1], outcome="wrong_number")
        await service.record_outcome(actor=agent_scope, callback_id=followup, outcome="reached", satisfied=True,
                                     scores={code: 9 for code in factor_codes("ssi")} | {"salesperson": 8})
        r = await client.get(f"{API}/statistics", params={"store_id": tenant.store_b, "period": "week",
                                                          "date": "2026-06-10"},
                             headers=await tenant.headers("store_gm@B"))
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["start"] == "2026-06-08" and stats["end"] == "2026-06-15"
    sales_figures = stats["sales"]
    assert sales_figures["planned"] == 6  # three 2-hour calls and three 3-day follow-ups due this week
    assert sales_figures["called"] == 3 and sales_figures["reached"] == 2 and sales_figures["wrong_number"] == 1
    assert sales_figures["callback_rate"] == 0.5 and sales_figures["satisfaction_rate"] == 1.0
    assert sales_figures["reach_rate"] == round(2 / 3, 4)
    # The 2-hour calls were due by 16:00 on Wednesday and made on Thursday: late. The follow-up was on time.
    assert stats["by_kind"]["delivery_care_2h"]["on_time"] == 0
    assert stats["by_kind"]["delivery_followup_3d"]["on_time"] == 1
    assert sales_figures["on_time_rate"] == round(1 / 6, 4)
    factors = {(f["survey"], f["factor"]): f for f in stats["factors"]}
    assert factors[("ssi", "salesperson")]["average"] == 8.0 and factors[("ssi", "salesperson")]["label_zh"] == "销售人员"
    assert factors[("csi", "service_quality")]["average"] is None
    assert "sales.callback_rate" in stats["below_target"]


async def test_targets_group_and_store(client, tenant):
    admin, gm = await tenant.headers("group_admin"), await tenant.headers("store_gm@A")
    r = await client.put(f"{API}/targets", json={"callback_rate_pct": 100, "satisfaction_rate_pct": 95}, headers=admin)
    assert r.status_code == 200 and r.json()["satisfaction_rate"] == 0.95
    r = await client.put(f"{API}/targets", params={"store_id": tenant.store_a},
                         json={"callback_rate_pct": 98, "satisfaction_rate_pct": 92}, headers=gm)
    assert r.json() == {"callback_rate": 0.98, "satisfaction_rate": 0.92, "level": "store"}
    got = (await client.get(f"{API}/targets", params={"store_id": tenant.store_b}, headers=admin)).json()
    assert got["level"] == "group"
    bad = await client.put(f"{API}/targets", json={"callback_rate_pct": 101, "satisfaction_rate_pct": 90},
                           headers=admin)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "callback_rate_pct"


async def test_every_endpoint_is_404_across_stores_and_groups(client, tenant, other_tenant):
    callback_id = await make_due(tenant)
    outsiders = [
        await tenant.headers("callback_agent@B"),
        await tenant.headers("store_cr_manager@C"),
        await tenant.headers("brand_manager@div2"),
        await other_tenant.headers("call_center_agent"),
        await other_tenant.headers("group_admin"),
    ]
    store = {"store_id": tenant.store_a}
    outcome = {"outcome": "no_answer"}
    for headers in outsiders:
        calls = [
            client.get(f"{API}/{callback_id}", headers=headers),
            client.post(f"{API}/{callback_id}/claim", headers=headers),
            client.post(f"{API}/{callback_id}/release", headers=headers),
            client.post(f"{API}/{callback_id}/outcome", json=outcome, headers=headers),
            client.get(f"{API}/queue", params=store, headers=headers),
            client.post(f"{API}/next", params=store, headers=headers),
            client.get(f"{API}/statistics", params=store, headers=headers),
            client.get(f"{API}/rules", params=store, headers=headers),
            client.put(f"{API}/rules/delivery_care_2h", params=store, json={"enabled": False}, headers=headers),
            client.delete(f"{API}/rules/delivery_care_2h", params=store, headers=headers),
            client.get(f"{API}/targets", params=store, headers=headers),
            client.put(f"{API}/targets", params=store, json={"callback_rate_pct": 1, "satisfaction_rate_pct": 1},
                       headers=headers),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 404, (response.request.method, response.request.url, response.text)
    row = await Callback.select().where(Callback.id == callback_id).first()
    assert row["state"] == "due" and row["attempts"] == 0 and row["claimed_by"] is None
    # The other group's queue never shows it.
    queue = (await client.get(f"{API}/queue", headers=await other_tenant.headers("call_center_agent"))).json()
    assert callback_id not in [i["id"] for section in ("mine", "overdue", "due", "upcoming") for i in queue[section]]


async def test_an_ssi_call_through_the_api_needs_the_scores_or_a_declined_survey(client, tenant):
    _, _, sale_id = await delivered_customer(tenant)
    followup = (await callbacks_of("sale", sale_id))["delivery_followup_3d"]["id"]
    await fire_callback_timers(followup)
    agent = await tenant.headers("callback_agent@A")
    assert (await client.post(f"{API}/{followup}/claim", headers=agent)).status_code == 200
    missing = await client.post(f"{API}/{followup}/outcome", json={"outcome": "reached", "satisfied": True,
                                                                   "scores": {"salesperson": 9}}, headers=agent)
    assert missing.status_code == 400
    errors = missing.json()["errors"]
    assert len(errors) == 7 and {e["field"] for e in errors} >= {"scores.purchase_experience", "scores.financing"}
    assert all(e["message_zh"] and e["message_en"] for e in errors)
    declined = await client.post(f"{API}/{followup}/outcome", json={"outcome": "reached", "satisfied": True,
                                                                    "survey_declined": True}, headers=agent)
    assert declined.status_code == 200, declined.text
    assert (await client.get(f"{API}/{followup}", headers=agent)).json()["survey_declined"] is True
