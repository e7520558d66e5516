"""Customer data corrections (修正表, seed 001 §9.3) and the change history of customer records.

A correction found during a callback is a request to the owning department's manager, decided within
24 hours (reminder, a miss counted once) and confirmed by customer relations; the agent no longer edits the
record. Every change to a record keeps who, when and the old value. Every test pins the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm import clock
import crm.customers.timer_handlers  # noqa: F401 - registers the handlers, as the worker does
from crm.callbacks import service as callbacks
from crm.callbacks.tables import Callback
from crm.customers import corrections, service
from crm.customers.tables import Customer, CustomerChange, CustomerCorrection, Vehicle
from crm.notify.tables import Notification
from crm.timers import runner
from crm.timers.tables import Timer
from tenants.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.builders import make_mobile
from tests.support.customers import csv_text, imported
from tests.support.web import csrf_of
from tests.support.callbacks import make_due

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
SUNDAY_10 = datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI)
NEW_ADDRESS = "上海市浦东新区世纪大道100号"


async def _callback_with_corrections(tenant, **extra) -> tuple[int, dict]:
    """A reached callback whose agent found a wrong address and a wrong plate; returns (callback id, customer)."""
    callback_id = await make_due(tenant, name="周芷若", gender="female")
    agent = await tenant.scope("callback_agent@A")
    await callbacks.claim_callback(actor=agent, callback_id=callback_id)
    await callbacks.record_outcome(
        actor=agent, callback_id=callback_id, outcome="reached", satisfied=True,
        corrections={"address": NEW_ADDRESS, "plate": "沪B12345", **extra}, correction_reason="客户说已搬家、换了牌照",
    )
    cb = await Callback.select(Callback.customer).where(Callback.id == callback_id).first()
    return callback_id, await Customer.select().where(Customer.id == cb["customer"]).first()


async def _request(customer_id: int, field: str) -> dict:
    return await CustomerCorrection.select().where(
        CustomerCorrection.customer == customer_id, CustomerCorrection.field == field).first()


async def _notified(kind: str, correction_id: int) -> int:
    return await Notification.count().where(
        Notification.kind == kind, Notification.idempotency_key.like(f"customer_correction:{correction_id}:%"),
        Notification.channel == "inapp")


async def test_a_correction_found_on_a_callback_is_a_request_to_the_owning_department(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        callback_id, customer = await _callback_with_corrections(tenant)
        now = clock.now()
    assert customer["address"] != NEW_ADDRESS  # the agent did not change the record
    address, plate = await _request(customer["id"], "address"), await _request(customer["id"], "plate")
    assert address["department"] == "sales" and plate["department"] == "service"
    assert address["old_value"] == customer["address"] and address["proposed_value"] == NEW_ADDRESS
    vehicle = await Vehicle.select().where(Vehicle.id == plate["vehicle"]).first()
    assert plate["old_value"] == vehicle["plate"] and vehicle["plate"] != "沪B12345"
    agent = await tenant.scope("callback_agent@A")
    assert address["found_by"] == agent.user_id and address["callback_id"] == callback_id
    assert address["reason"] == "客户说已搬家、换了牌照" and address["state"] == "open"
    assert address["due_at"] == now + timedelta(hours=24)
    timers = await Timer.select(Timer.kind, Timer.due_at).where(
        Timer.subject_type == corrections.SUBJECT, Timer.subject_id == address["id"], Timer.state == "pending")
    assert {(t["kind"], t["due_at"]) for t in timers} == {
        (corrections.REMIND_KIND, now + timedelta(hours=20)), (corrections.DUE_KIND, now + timedelta(hours=24))}
    head = await tenant.scope("department_head@A")
    assert await Notification.count().where(Notification.recipient == head.user_id,
                                            Notification.kind == "customer_correction.filed") == 2
    recorded = (await Callback.select(Callback.corrections).where(Callback.id == callback_id).first())["corrections"]
    assert "沪B12345" in recorded and NEW_ADDRESS in recorded
    with time_machine.travel(WEDNESDAY_10 + timedelta(hours=3), tick=False):
        open_ones = corrections.CorrectionFilter(state="open")
        first, _ = (await corrections.list_corrections(actor=head, filters=open_ones)).items
    assert first.remaining_seconds == 21 * 3600 and not first.overdue and first.actions == ["apply", "reject"]


async def test_manager_applies_then_customer_relations_confirms(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        _, customer = await _callback_with_corrections(tenant)
        request = await _request(customer["id"], "address")
        head, cr = await tenant.scope("department_head@A"), await tenant.scope("store_cr_manager@A")
        with pytest.raises(Conflict):
            await corrections.confirm_correction(actor=cr, correction_id=request["id"])  # nothing decided to confirm
        with pytest.raises(Forbidden):
            await corrections.apply_correction(actor=await tenant.scope("callback_agent@A"),
                                               correction_id=request["id"])
        traveller.shift(timedelta(hours=2))
        item = await corrections.apply_correction(actor=head, correction_id=request["id"], note="已核实")
        assert item.state == "applied" and item.actions == [] and item.decided_by_name == head.display_name
        after = await Customer.select().where(Customer.id == customer["id"]).first()
        assert after["address"] == NEW_ADDRESS
        [change] = await CustomerChange.select().where(CustomerChange.customer == customer["id"],
                                                        CustomerChange.field == "address")
        assert change["old_value"] == customer["address"] and change["new_value"] == NEW_ADDRESS
        assert change["via"] == "correction" and change["correction_id"] == request["id"]
        assert change["changed_by"] == head.user_id and change["changed_at"] == clock.now()
        assert await Timer.count().where(Timer.subject_type == corrections.SUBJECT,
                                         Timer.subject_id == request["id"], Timer.state == "pending") == 0
        with pytest.raises(Conflict):
            await corrections.apply_correction(actor=head, correction_id=request["id"])
        unconfirmed = corrections.CorrectionFilter(state="unconfirmed")
        [waiting] = [i for i in (await corrections.list_corrections(actor=cr, filters=unconfirmed)).items
                     if i.id == request["id"]]
        assert waiting.actions == ["confirm"]
        confirmed = await corrections.confirm_correction(actor=cr, correction_id=request["id"])
        assert confirmed.confirmed_by_name == cr.display_name and confirmed.confirmed_at is not None
        with pytest.raises(Conflict):
            await corrections.confirm_correction(actor=cr, correction_id=request["id"])
        # A vehicle field goes to the vehicle.
        plate = await _request(customer["id"], "plate")
        await corrections.apply_correction(actor=head, correction_id=plate["id"])
        assert (await Vehicle.select(Vehicle.plate).where(Vehicle.id == plate["vehicle"]).first())["plate"] == "沪B12345"


async def test_reject_keeps_the_value_and_needs_a_reason(tenant):
    with time_machine.travel(SUNDAY_10, tick=False):
        _, customer = await _callback_with_corrections(tenant)
        request = await _request(customer["id"], "address")
        head = await tenant.scope("department_head@A")
        with pytest.raises(InvalidInput) as refused:
            await corrections.reject_correction(actor=head, correction_id=request["id"], note="  ")
        assert refused.value.problems[0].field == "note" and refused.value.problems[0].zh
        item = await corrections.reject_correction(actor=head, correction_id=request["id"], note="客户地址已核实无误")
    assert item.state == "rejected" and item.decision_note == "客户地址已核实无误"
    assert (await Customer.select(Customer.address).where(Customer.id == customer["id"]).first())["address"] \
        == customer["address"]
    assert await CustomerChange.count().where(CustomerChange.customer == customer["id"],
                                              CustomerChange.field == "address") == 0


async def test_deadline_is_exactly_24_hours_with_a_reminder_and_one_miss(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        _, customer = await _callback_with_corrections(tenant)
    request = await _request(customer["id"], "address")
    timers = {t["kind"]: t["id"] for t in await Timer.select(Timer.id, Timer.kind).where(
        Timer.subject_type == corrections.SUBJECT, Timer.subject_id == request["id"])}
    due = WEDNESDAY_10 + timedelta(hours=24)
    with time_machine.travel(due - timedelta(hours=4), tick=False):
        await runner.fire_timer(timers[corrections.REMIND_KIND])
    assert await _notified("customer_correction.reminder", request["id"]) >= 1
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        await runner.fire_timer(timers[corrections.DUE_KIND])
        assert await corrections.deadline_passed(correction_id=request["id"], group_id=tenant.group_id,
                                                 store_id=tenant.store_a) == "ignored"
    assert (await _request(customer["id"], "address"))["missed_at"] is None
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        await runner.fire_timer(timers[corrections.DUE_KIND])
        assert await corrections.deadline_passed(correction_id=request["id"], group_id=tenant.group_id,
                                                 store_id=tenant.store_a) == "ignored"  # counted once
        head = await tenant.scope("department_head@A")
        [item] = [i for i in (await corrections.list_corrections(actor=head)).items if i.id == request["id"]]
        assert item.overdue and item.missed and item.remaining_seconds == -60
    assert (await _request(customer["id"], "address"))["missed_at"] == due + timedelta(minutes=1)
    assert await _notified("customer_correction.missed", request["id"]) >= 3  # heads, customer relations, GM
    cr = await tenant.scope("store_cr_manager@A")
    window = {"since": WEDNESDAY_10, "before": due + timedelta(days=1)}
    assert await corrections.missed_count(actor=cr, **window, department="sales") == 1
    assert await corrections.missed_count(actor=cr, **window, department="service") == 0  # plate timer not fired


async def test_a_decision_before_the_deadline_is_never_missed(tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        _, customer = await _callback_with_corrections(tenant)
    request = await _request(customer["id"], "address")
    with time_machine.travel(WEDNESDAY_10 + timedelta(hours=23, minutes=59), tick=False):
        await corrections.apply_correction(actor=await tenant.scope("store_gm@A"), correction_id=request["id"])
    with time_machine.travel(WEDNESDAY_10 + timedelta(hours=25), tick=False):
        await runner.sweep(groups=[tenant.group_id])
    assert (await _request(customer["id"], "address"))["missed_at"] is None


async def test_the_agent_can_no_longer_edit_the_record(client, tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        callback_id = await make_due(tenant)
        cb = await Callback.select(Callback.customer, Callback.vehicle).where(Callback.id == callback_id).first()
        agent_headers = await tenant.headers("callback_agent@A")
        edit = await client.patch(f"/api/v1/customers/{cb['customer']}", headers=agent_headers,
                                  json={"address": NEW_ADDRESS})
        assert edit.status_code == 403
        car = await client.patch(f"/api/v1/vehicles/{cb['vehicle']}", headers=agent_headers, json={"plate": "沪B12345"})
        assert car.status_code == 403
        with pytest.raises(Forbidden):
            await service.update_customer(actor=await tenant.scope("callback_agent@A"), customer_id=cb["customer"],
                                          address=NEW_ADDRESS)
        await client.post(f"/api/v1/callbacks/{callback_id}/claim", headers=agent_headers)
        # Bad proposals: 400 with zh/en field messages, and nothing written (no request, the call not recorded).
        bad = await client.post(f"/api/v1/callbacks/{callback_id}/outcome", headers=agent_headers, json={
            "outcome": "reached", "satisfied": True, "corrections": {"mobile": "12345", "vin": "X", "address": "新地址"}})
        assert bad.status_code == 400
        fields = {e["field"] for e in bad.json()["errors"]}
        assert {"corrections.mobile", "corrections.vin"} <= fields
        assert all(e["message_zh"] and e["message_en"] for e in bad.json()["errors"])
        assert await CustomerCorrection.count().where(CustomerCorrection.customer == cb["customer"]) == 0
        assert (await Callback.select(Callback.attempts).where(Callback.id == callback_id).first())["attempts"] == 0
        ok = await client.post(f"/api/v1/callbacks/{callback_id}/outcome", headers=agent_headers, json={
            "outcome": "reached", "satisfied": True, "corrections": {"address": NEW_ADDRESS},
            "correction_reason": "客户搬家"})
        assert ok.status_code == 200
        listed = await client.get("/api/v1/customer-corrections", headers=await tenant.headers("department_head@A"))
        [item] = [i for i in listed.json()["items"] if i["customer_id"] == cb["customer"]]
        assert item["field"] == "address" and item["reason"] == "客户搬家" and item["remaining_seconds"] == 86400
        applied = await client.post(f"/api/v1/customer-corrections/{item['id']}/apply",
                                    headers=await tenant.headers("department_head@A"), json={})
        assert applied.status_code == 200 and applied.json()["state"] == "applied"
        rejected = await client.post(f"/api/v1/customer-corrections/{item['id']}/reject",
                                     headers=await tenant.headers("department_head@A"), json={"note": "x"})
        assert rejected.status_code == 409
        confirmed = await client.post(f"/api/v1/customer-corrections/{item['id']}/confirm",
                                      headers=await tenant.headers("store_cr_manager@A"))
        assert confirmed.status_code == 200 and confirmed.json()["confirmed_by_name"]


async def test_history_of_api_edits_and_imports(client, tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        headers = await tenant.headers("staff@A")
        mobile = make_mobile()
        created = await client.post("/api/v1/customers", headers=headers, json={"name": "孙丽", "mobile": mobile})
        customer_id = created.json()["id"]
        edited = await client.patch(f"/api/v1/customers/{customer_id}", headers=headers,
                                    json={"name": "孙丽(已核实)", "address": NEW_ADDRESS})
        assert edited.status_code == 200
        content = csv_text([["客户姓名", "手机", "邮箱"], ["孙丽", mobile, "sun@x.cn"]]).encode()
        assert (await imported(client, await tenant.headers("store_gm@A"), "a.csv", content))["imported"]
        history = await client.get(f"/api/v1/customers/{customer_id}/changes", headers=headers)
    assert history.status_code == 200
    rows = {(r["field"], r["via"]): r for r in history.json()["items"]}
    assert rows[("name", "edit")]["old_value"] == "孙丽" and rows[("name", "edit")]["new_value"] == "孙丽(已核实)"
    assert rows[("address", "edit")]["old_value"] == "" and rows[("name", "edit")]["changed_by_name"]
    assert rows[("email", "import")]["old_value"] == "" and rows[("email", "import")]["new_value"] == "sun@x.cn"
    assert rows[("name", "edit")]["changed_at"].startswith("2026-12-02T02:00:00")
    assert history.json()["items"][0]["via"] == "import" and history.json()["total"] == len(rows)  # newest first


async def test_web_list_with_countdown_apply_confirm_and_the_history_on_the_customer_page(browser_session, tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        _, customer = await _callback_with_corrections(tenant)
        request = await _request(customer["id"], "address")
        traveller.shift(timedelta(hours=1, minutes=30))
        head = await browser_session(tenant.usernames["department_head@A"])
        page = await head.get("/corrections")
        assert page.status_code == 200 and "客户资料修正" in page.text
        assert "剩余 22小时30分" in page.text and NEW_ADDRESS in page.text and "销售部" in page.text
        refused = await head.post(f"/corrections/{request['id']}/reject", data={"_csrf_token": csrf_of(page.text)})
        assert refused.status_code == 400 and "请填写驳回理由" in refused.text
        applied = await head.post(f"/corrections/{request['id']}/apply", data={"_csrf_token": csrf_of(page.text)})
        assert applied.status_code in (302, 303)
        cr = await browser_session(tenant.usernames["store_cr_manager@A"])
        waiting = await cr.get("/corrections?state=unconfirmed")
        assert f'action="/corrections/{request["id"]}/confirm"' in waiting.text
        confirmed = await cr.post(f"/corrections/{request['id']}/confirm",
                                  data={"_csrf_token": csrf_of(waiting.text)})
        assert confirmed.status_code in (302, 303)
        again = await cr.post(f"/corrections/{request['id']}/confirm", data={"_csrf_token": csrf_of(waiting.text)})
        assert again.status_code == 409
        profile = await cr.get(f"/customers/{customer['id']}")
    assert "变更记录" in profile.text and "资料修正" in profile.text
    assert customer["address"] in profile.text and NEW_ADDRESS in profile.text


async def test_other_tenants_get_404_on_every_correction_endpoint(client, tenant, other_tenant):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        _, customer = await _callback_with_corrections(tenant)
        request = await _request(customer["id"], "address")
        paths = [("GET", f"/api/v1/customer-corrections/{request['id']}"),
                 ("POST", f"/api/v1/customer-corrections/{request['id']}/apply"),
                 ("POST", f"/api/v1/customer-corrections/{request['id']}/reject"),
                 ("POST", f"/api/v1/customer-corrections/{request['id']}/confirm"),
                 ("GET", f"/api/v1/customers/{customer['id']}/changes")]
        for who, owner in (("department_head@A", other_tenant), ("store_cr_manager@A", other_tenant),
                           ("department_head@B", tenant), ("store_cr_manager@B", tenant)):
            for method, path in paths:
                response = await client.request(method, path, headers=await owner.headers(who), json={"note": "x"})
                assert response.status_code == 404, (who, method, path, response.status_code)
            listed = await client.get("/api/v1/customer-corrections?state=all", headers=await owner.headers(who))
            assert request["id"] not in {i["id"] for i in listed.json()["items"]}
        with pytest.raises(NotFound):
            await corrections.get_correction(actor=await tenant.scope("department_head@B"),
                                             correction_id=request["id"])
    assert (await _request(customer["id"], "address"))["state"] == "open"
