"""Group organisation through the API (组织架构): brand divisions, regions and stores — create, edit, move, close."""

from __future__ import annotations

from crm.callbacks.tables import Callback
from crm.timers.tables import Timer
from tenants.tables import AuditEntry, Store
from tests.support.builders import complaint, customer_with_car
from tests.support.callbacks import make_due

API = "/api/v1"


def _store(code: str, **extra) -> dict:
    return {"code": code, "name": f"华东上汽大众{code}店", "city": "杭州", "address": "杭州市滨江区江南大道1号",
            "brand": "大众", "timezone": "", **extra}


async def test_group_admin_creates_a_store_with_its_hours_and_contact_window(client, tenant):
    admin = await tenant.headers("group_admin")
    body = _store("HZ01", brand_division_id=tenant.division_ids[0], open_time="08:00", close_time="18:30",
                  contact_start="09:30", contact_end="19:00", timezone="Asia/Urumqi")
    created = await client.post(f"{API}/stores", json=body, headers=admin)
    assert created.status_code == 201, created.text
    store = created.json()
    assert (store["code"], store["brand"], store["address"]) == ("HZ01", "大众", "杭州市滨江区江南大道1号")
    assert (store["open_time"], store["close_time"], store["contact_start"], store["contact_end"]) == (
        "08:00", "18:30", "09:30", "19:00")
    assert store["effective_timezone"] == "Asia/Urumqi" and store["brand_division_name"] == "上汽大众"
    # the hours are the store's calendar settings: the calendar API reads the same
    calendar = (await client.get(f"{API}/stores/{store['id']}/calendar", headers=admin)).json()
    assert calendar["contact_start"] == "09:30" and calendar["overrides"]["contact_end"] == "19:00"
    listed = (await client.get(f"{API}/organisation", headers=admin)).json()
    assert "HZ01" in [s["code"] for s in listed["stores"]]
    entry = await AuditEntry.select().where(AuditEntry.group == tenant.group_id,  # the test's own group
                                            AuditEntry.action == "store.create").first()
    assert entry["target_id"] == str(store["id"]) and entry["actor"] == tenant.users["group_admin"]


async def test_bad_store_input_gets_chinese_field_errors_and_writes_nothing(client, tenant):
    admin = await tenant.headers("group_admin")
    taken = (await Store.select(Store.code).where(Store.id == tenant.store_a).first())["code"]
    answer = await client.post(f"{API}/stores", json=_store(taken, timezone="Mars/Olympus", open_time="18:00",
                                                            close_time="08:00"), headers=admin)
    assert answer.status_code == 400
    errors = {e["field"]: e["message_zh"] for e in answer.json()["errors"]}
    assert errors["timezone"].startswith("时区无效") and errors["close_time"] == "结束时间必须晚于开始时间"
    answer = await client.post(f"{API}/stores", json=_store(taken), headers=admin)
    assert answer.status_code == 400
    assert answer.json()["errors"][0] == {
        "field": "code", "message": "本集团已有该门店编码 / Another store of the group has this code",
        "message_zh": "本集团已有该门店编码", "message_en": "Another store of the group has this code"}
    assert await Store.count().where(Store.group == tenant.group_id) == 3
    # not a group admin: refused
    gm = await tenant.headers("store_gm@A")
    assert (await client.post(f"{API}/stores", json=_store("X1"), headers=gm)).status_code == 403


async def test_a_store_moves_between_divisions_and_regions(client, tenant):
    admin = await tenant.headers("group_admin")
    region = (await client.post(f"{API}/regions", json={"name": "华南"}, headers=admin)).json()
    division = (await client.post(f"{API}/brand-divisions", json={"name": "东风日产", "code": "DFN"},
                                  headers=admin)).json()
    moved = await client.patch(f"{API}/stores/{tenant.store_a}", headers=admin,
                               json={"brand_division_id": division["id"], "region_id": region["id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["brand_division_name"], moved.json()["region_name"]) == ("东风日产", "华南")
    # the other division's manager no longer sees it; store data follow the store
    renamed = await client.patch(f"{API}/regions/{region['id']}", json={"name": "华南区"}, headers=admin)
    assert renamed.json()["name"] == "华南区"
    duplicate = await client.post(f"{API}/brand-divisions", json={"name": "重复", "code": "DFN"}, headers=admin)
    assert duplicate.status_code == 400 and duplicate.json()["errors"][0]["message_zh"] == "本集团已有该事业部编码"
    unknown = await client.patch(f"{API}/stores/{tenant.store_a}", json={"region_id": 2**31 - 1}, headers=admin)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "region_id"


async def test_closing_a_store_keeps_its_history_and_takes_it_out_of_new_work(client, tenant):
    admin = await tenant.headers("group_admin")
    car = await customer_with_car(tenant, "A")
    earlier = await complaint(tenant, car, store="A")
    callback_id = await make_due(tenant)
    closed = await client.post(f"{API}/stores/{tenant.store_a}/close", headers=admin)
    assert closed.status_code == 200 and closed.json()["active"] is False
    assert closed.json()["callbacks_cancelled"] >= 1
    cb = await Callback.select(Callback.state).where(Callback.id == callback_id).first()
    assert cb["state"] == "cancelled"
    assert not await Timer.exists().where(Timer.subject_type == "callback", Timer.subject_id == callback_id,
                                          Timer.state == "pending")
    # history stays readable; the open complaint keeps its deadline
    manager = await tenant.headers("store_cr_manager@A")
    assert (await client.get(f"{API}/complaints/{earlier}", headers=manager)).status_code == 200
    assert await Timer.exists().where(Timer.subject_type == "complaint", Timer.subject_id == earlier,
                                      Timer.state == "pending")
    # no new complaint goes to it
    agent = await tenant.headers("call_center_agent")
    refused = await client.post(f"{API}/complaints", headers=agent, json={
        "customer_id": car.customer_id, "channel": "hotline_400", "content": "又有问题", "store_id": tenant.store_a})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message_zh"] == "该门店已关闭，不能再接收新的工作"
    # it leaves the pickers (the complaint pages' store choices), not the organisation page
    from api.web.forms import store_choices

    assert tenant.store_a not in {s["id"] for s in await store_choices(await tenant.scope("call_center_agent"))}
    reopened = await client.post(f"{API}/stores/{tenant.store_a}/reopen", headers=admin)
    assert reopened.json()["active"] is True


async def test_every_store_reader_sees_the_card_of_their_own_store_only(client, tenant, other_tenant):
    staff = await tenant.headers("staff@A")
    assert (await client.get(f"{API}/stores/{tenant.store_a}", headers=staff)).status_code == 200
    assert (await client.get(f"{API}/stores/{tenant.store_b}", headers=staff)).status_code == 404
    outsider = await other_tenant.headers("group_admin")
    assert (await client.get(f"{API}/stores/{tenant.store_a}", headers=outsider)).status_code == 404
    assert (await client.patch(f"{API}/stores/{tenant.store_a}", json={"name": "改"}, headers=outsider)).status_code == 404
    assert (await client.post(f"{API}/stores/{tenant.store_a}/close", headers=outsider)).status_code == 404
    division, region = tenant.division_ids[0], await _region_of(tenant)
    assert (await client.patch(f"{API}/brand-divisions/{division}", json={"name": "改"},
                               headers=outsider)).status_code == 404
    assert (await client.patch(f"{API}/regions/{region}", json={"name": "改"}, headers=outsider)).status_code == 404


async def _region_of(tenant) -> int:
    return (await Store.select(Store.region).where(Store.id == tenant.store_a).first())["region"]
