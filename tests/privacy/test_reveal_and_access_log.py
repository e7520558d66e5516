"""Masked vs revealed per role, the reveal's access-log row, the group admin's log, the hourly limits (429)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.privacy import limits
from crm.privacy.tables import PersonalDataAccess
from tests.support.builders import complaint, customer_with_car, make_id_number

API = "/api/v1"


async def _car(tenant):
    return await customer_with_car(tenant, "A", name="钱程", id_number=make_id_number())


async def _id_number(client, tenant, customer_id):
    revealed = await client.post(f"{API}/customers/{customer_id}/reveal", headers=await tenant.headers("group_admin"),
                                 json={"field": "id_number", "reason": "核对身份"})
    return revealed.json()["value"]


async def test_each_role_gets_the_mobile_as_its_work_needs(client, tenant):
    car = await _car(tenant)
    masked = car.mobile[:3] + "****" + car.mobile[-4:]
    for who, expected in (("staff@A", masked), ("hq_viewer", masked), ("brand_manager", masked),
                          ("store_gm@A", masked), ("callback_agent@A", car.mobile),
                          ("store_cr_manager@A", car.mobile), ("call_center_agent", car.mobile)):
        h = await tenant.headers(who)
        record = await client.get(f"{API}/customers/{car.customer_id}", headers=h)
        assert record.status_code == 200, (who, record.text)
        c = record.json()["customer"]
        assert c["mobile"] == expected, who
        assert "********" in c["id_number"], who  # nobody reads ID numbers in clear
        found = await client.get(f"{API}/customers", headers=h, params={"q": car.mobile})
        assert [i["mobile"] for i in found.json()["items"]] == [expected], who  # search by mobile still works


async def test_reveal_returns_the_clear_value_and_writes_the_access_log(client, tenant):
    car = await _car(tenant)
    gm = await tenant.headers("store_gm@A")
    revealed = await client.post(f"{API}/customers/{car.customer_id}/reveal", headers=gm,
                                 json={"field": "mobile", "reason": "客户投诉回电"})
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {"field": "mobile", "value": car.mobile}
    [row] = await PersonalDataAccess.select().where(PersonalDataAccess.group == tenant.group_id,
                                                     PersonalDataAccess.action == "reveal")
    assert (row["user"], row["subject"], row["subject_id"], row["field"], row["reason"], row["store"]) == (
        tenant.users["store_gm@A"], "customer", car.customer_id, "mobile", "客户投诉回电", tenant.store_a)
    assert abs(row["at"] - clock.now()) < timedelta(minutes=1)

    log = await client.get(f"{API}/personal-data-access", headers=await tenant.headers("group_admin"))
    assert log.status_code == 200
    assert [(e["user_name"], e["subject_id"], e["field"], e["reason"]) for e in log.json()["items"]
            if e["action"] == "reveal"] == [(row["user_name"], car.customer_id, "mobile", "客户投诉回电")]
    for who in ("store_gm@A", "hq_viewer", "staff@A"):
        refused = await client.get(f"{API}/personal-data-access", headers=await tenant.headers(who))
        assert refused.status_code == 403, who


async def test_reveal_is_refused_without_right_or_reason_and_unknown_outside_the_scope(client, tenant, other_tenant):
    car = await _car(tenant)
    url = f"{API}/customers/{car.customer_id}/reveal"
    staff = await client.post(url, headers=await tenant.headers("staff@A"), json={"field": "mobile", "reason": "x"})
    assert staff.status_code == 403 and staff.json()["detail_zh"] and staff.json()["detail_en"]
    hq = await client.post(url, headers=await tenant.headers("hq_viewer"), json={"field": "id_number", "reason": "x"})
    assert hq.status_code == 403
    blank = await client.post(url, headers=await tenant.headers("store_gm@A"), json={"field": "mobile", "reason": " "})
    assert blank.status_code == 400 and blank.json()["errors"][0]["field"] == "reason"
    other = await client.post(url, headers=await tenant.headers("store_gm@A"), json={"field": "email", "reason": "x"})
    assert other.status_code == 400 and other.json()["errors"][0]["field"] == "field"
    for headers in (await tenant.headers("store_gm@B"), await other_tenant.headers("group_admin")):
        assert (await client.post(url, headers=headers, json={"field": "mobile", "reason": "x"})).status_code == 404
    assert await PersonalDataAccess.count().where(PersonalDataAccess.group == tenant.group_id,
                                                  PersonalDataAccess.action == "reveal") == 0


async def test_complainant_phone_masked_and_revealed(client, tenant):
    car = await _car(tenant)
    cid = await complaint(tenant, car, store="A")
    masked = car.mobile[:3] + "****" + car.mobile[-4:]
    for who, expected in (("staff@A", masked), ("store_gm@A", masked), ("store_cr_manager@A", car.mobile)):
        got = await client.get(f"{API}/complaints/{cid}", headers=await tenant.headers(who))
        assert got.json()["summary"]["complainant_phone"] == expected, who
        listed = await client.get(f"{API}/complaints", headers=await tenant.headers(who))
        assert {c["complainant_phone"] for c in listed.json()["items"]} == {expected}, who
    revealed = await client.post(f"{API}/complaints/{cid}/reveal", headers=await tenant.headers("store_gm@A"),
                                 json={"field": "complainant_phone", "reason": "回电客户"})
    assert revealed.status_code == 200 and revealed.json()["value"] == car.mobile
    assert await PersonalDataAccess.exists().where(
        PersonalDataAccess.subject == "complaint", PersonalDataAccess.subject_id == cid,
        PersonalDataAccess.user == tenant.users["store_gm@A"])


async def test_reveals_are_limited_per_user_and_hour(client, tenant, monkeypatch):
    monkeypatch.setitem(limits.LIMITS, "reveal", 3)
    car = await _car(tenant)
    url, gm = f"{API}/customers/{car.customer_id}/reveal", await tenant.headers("store_gm@A")
    start = clock.now().replace(minute=10, second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert (await client.post(url, headers=gm, json={"field": "mobile", "reason": "核对"})).status_code == 200
        refused = await client.post(url, headers=gm, json={"field": "mobile", "reason": "核对"})
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == str(50 * 60)
        assert "频繁" in refused.json()["detail_zh"] and "reveals" in refused.json()["detail_en"]
        # another user has their own allowance
        admin = await tenant.headers("group_admin")
        assert (await client.post(url, headers=admin, json={"field": "mobile", "reason": "核对"})).status_code == 200
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert (await client.post(url, headers=gm, json={"field": "mobile", "reason": "核对"})).status_code == 200
    assert await PersonalDataAccess.count().where(PersonalDataAccess.user == tenant.users["store_gm@A"]) == 4


async def test_bulk_reads_of_clear_mobiles_are_counted_logged_and_limited(client, tenant, monkeypatch):
    monkeypatch.setitem(limits.LIMITS, "bulk_read", 3)
    for n in range(2):
        await customer_with_car(tenant, "A", name=f"客户{n}")
    agent = await tenant.headers("callback_agent@A")
    with time_machine.travel(clock.now(), tick=False):
        first = await client.get(f"{API}/customers", headers=agent)
        assert first.status_code == 200 and len(first.json()["items"]) == 2
        second = await client.get(f"{API}/customers", headers=agent)
        assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
        # masked reads (staff) neither count nor log
        for _ in range(3):
            assert (await client.get(f"{API}/customers", headers=await tenant.headers("staff@A"))).status_code == 200
    [row] = await PersonalDataAccess.select().where(PersonalDataAccess.group == tenant.group_id)
    assert (row["action"], row["user"], row["records"], row["field"]) == (
        "bulk_read", tenant.users["callback_agent@A"], 2, "mobile")


async def test_the_access_log_stays_in_its_group(client, tenant, other_tenant):
    car = await _car(tenant)
    await _id_number(client, tenant, car.customer_id)
    theirs = await client.get(f"{API}/personal-data-access", headers=await other_tenant.headers("group_admin"))
    assert theirs.status_code == 200 and theirs.json()["items"] == [] and theirs.json()["total"] == 0
    ours = await client.get(f"{API}/personal-data-access", headers=await tenant.headers("group_admin"))
    assert [e["field"] for e in ours.json()["items"]] == ["id_number"] and ours.json()["total"] == 1
