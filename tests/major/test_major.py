"""Major complaints (重大投诉): marking and reasons, repeat detection, immediate alerts, the 24-hour
report, the escalation ladder and acknowledgements — against real PostgreSQL and Redis, with time travel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import time_machine

from crm import clock
from crm.complaints.service import reopen_complaint, reroute_complaint
from crm.db import transaction
from crm.major import service
from crm.major.policy import Level, Policy, set_policy
from crm.major.rules import Condition, MajorReason
from crm.major.tables import MajorAlert, MajorReport
from crm.queue import get_queue
from crm.timers import runner
from crm.timers.tables import Timer
from tenants.accounts import issue_token
from tenants.errors import NotFound
from tenants.roles import Role
from tenants.scope import scope_for_user
from tenants.tables import User
from tests.support.builders import customer_with_car, major_complaint
from tests.support.major import (
    alert_id,
    alert_levels,
    alert_recipients,
    close,
    complaint_for,
    major_of,
    major_of_id,
    notifications,
    pending_major_timers,
    resolve,
)
from tests.support.major import complete_report

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def _new_major(tenant, store: str = "A") -> tuple[int, int]:
    car = await customer_with_car(tenant, store)
    complaint_id = await complaint_for(tenant, car, store=store)
    return complaint_id, await major_complaint(tenant, complaint_id)


def _at(instant):
    return time_machine.travel(instant, tick=False)


async def _headers_now(tenant, who: str) -> dict[str, str]:
    """A token issued at the (travelled) current time: cached ones expire on a long trip."""
    token, _ = await issue_token(tenant.users[who], 1)
    return {"Authorization": f"Bearer {token}"}


async def _file(tenant, major_id: int, store: str = "A"):
    actor = await tenant.scope(f"store_gm@{store}")
    return await service.file_report(actor=actor, major_id=major_id, form=complete_report())


# --- marking -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(MajorReason))
async def test_each_reason_marks_a_complaint_major_through_the_api(client, tenant, reason):
    car = await customer_with_car(tenant)
    complaint_id = await complaint_for(tenant, car)
    body = {"reasons": [{"reason": reason.value, "note": "客户聚集十余人" if reason == MajorReason.OTHER else ""}]}
    response = await client.post(
        f"/api/v1/complaints/{complaint_id}/major", json=body, headers=await tenant.headers("call_center_agent")
    )
    assert response.status_code == 201, response.text
    major = response.json()
    assert [r["reason"] for r in major["reasons"]] == [reason.value]
    assert major["reasons"][0]["title_zh"] == reason.title_zh
    assert major["report_status"] == "missing" and major["level_reached"] == 0
    assert 0 < major["seconds_to_report_deadline"] <= 86400


async def test_other_needs_a_note_and_bad_input_writes_nothing(client, tenant):
    car = await customer_with_car(tenant)
    complaint_id = await complaint_for(tenant, car)
    headers = await tenant.headers("call_center_agent")
    for body, field in [
        ({"reasons": [{"reason": "other"}]}, "reasons[0].note"),
        ({"reasons": []}, "reasons"),
        ({"reasons": [{"reason": "exploded"}]}, "reasons[0].reason"),
        ({"reasons": [{"reason": "repeat"}], "extra": 1}, "extra"),
    ]:
        response = await client.post(f"/api/v1/complaints/{complaint_id}/major", json=body, headers=headers)
        assert response.status_code == 400, body
        assert field in {e["field"] for e in response.json()["errors"]}
        assert all(e["message_zh"] and e["message_en"] for e in response.json()["errors"])
    assert await major_of(complaint_id) is None


async def test_marking_again_adds_reasons_without_restarting_the_clock(tenant):
    car = await customer_with_car(tenant)
    complaint_id = await complaint_for(tenant, car)
    start = clock.now()
    with _at(start):
        major_id = await major_complaint(tenant, complaint_id, MajorReason.BLOCKING_GATE)
    with _at(start + 3 * HOUR):
        assert await major_complaint(tenant, complaint_id, MajorReason.NEGATIVE_MEDIA, MajorReason.BLOCKING_GATE) == major_id
    major = await major_of(complaint_id)
    assert major["report_due_at"] == start + DAY
    view = await service.major_detail(actor=await tenant.scope("hq_viewer"), major_id=major_id)
    assert [r["reason"] for r in view.reasons] == ["blocking_gate", "negative_media"]
    assert await alert_levels(major_id) == [0]


async def test_upgrading_later_starts_the_clock_from_that_moment(tenant):
    start = clock.now()
    car = await customer_with_car(tenant)
    with _at(start):
        complaint_id = await complaint_for(tenant, car)
    with _at(start + 10 * HOUR):
        major_id = await major_complaint(tenant, complaint_id, MajorReason.RETURN_EXCHANGE, who="store_gm@A")
    major = await major_of(complaint_id)
    assert major["marked_at"] == start + 10 * HOUR
    assert major["report_due_at"] == start + 34 * HOUR
    [timer] = [t for t in await pending_major_timers(major_id) if t["kind"] == "major.report_missing"]
    assert timer["due_at"] == start + 34 * HOUR and timer["payload"] == {"level": 1}


async def test_manufacturer_channel_complaints_are_major_from_intake(tenant):
    car = await customer_with_car(tenant)
    complaint_id = await complaint_for(tenant, car, channel="manufacturer")
    major = await major_of(complaint_id)
    assert major is not None and major["marked_by"] is None
    view = await service.major_detail(actor=await tenant.scope("hq_viewer"), major_id=major["id"])
    assert view.reasons == [{"reason": "manufacturer", "title_zh": "向厂方投诉", "title_en": "Complaint to the manufacturer",
                             "note": "", "automatic": True}]
    assert await alert_levels(major["id"]) == [0]


async def test_store_staff_and_closed_complaints_cannot_be_marked(client, tenant):
    car = await customer_with_car(tenant)
    complaint_id = await complaint_for(tenant, car)
    response = await client.post(
        f"/api/v1/complaints/{complaint_id}/major", json={"reasons": [{"reason": "repeat"}]},
        headers=await tenant.headers("staff@A"),
    )
    assert response.status_code == 403
    await resolve(tenant, complaint_id)
    await close(tenant, complaint_id)
    response = await client.post(
        f"/api/v1/complaints/{complaint_id}/major", json={"reasons": [{"reason": "repeat"}]},
        headers=await tenant.headers("store_gm@A"),
    )
    assert response.status_code == 409


# --- repeat detection ----------------------------------------------------------------------------


async def test_repeat_detected_within_the_window_and_not_outside(client, tenant):
    start = clock.now()
    car = await customer_with_car(tenant)
    with _at(start):
        first = await complaint_for(tenant, car)
    url = f"/api/v1/major/repeat-check?customer_id={car.customer_id}&vehicle_id={car.vehicle_id}"
    with _at(start + timedelta(days=89)):
        within = (await client.get(url, headers=await _headers_now(tenant, "call_center_agent"))).json()
    assert within["suggested_reasons"] == ["repeat"] and within["window_days"] == 90
    assert [h["complaint_id"] for h in within["repeats"]] == [first]
    assert within["repeats"][0]["same_customer"] and within["repeats"][0]["same_vehicle"]
    with _at(start + timedelta(days=91)):
        outside = (await client.get(url, headers=await _headers_now(tenant, "call_center_agent"))).json()
    assert outside["suggested_reasons"] == [] and outside["repeats"] == []


async def test_repeat_by_the_same_vehicle_at_another_store_and_by_identity(tenant):
    """Same VIN known to store B under another owner, and the same person (mobile) at store C."""
    car = await customer_with_car(tenant, "A")
    first = await complaint_for(tenant, car)
    same_car = await customer_with_car(tenant, "B", vin=car.vin)
    same_person = await customer_with_car(tenant, "C", mobile=car.mobile)
    agent = await tenant.scope("call_center_agent")
    by_vehicle = await service.suggest_for_intake(
        actor=agent, customer_id=same_car.customer_id, vehicle_id=same_car.vehicle_id
    )
    assert [(h.complaint_id, h.same_vehicle, h.same_customer) for h in by_vehicle.repeats] == [(first, True, False)]
    by_identity = await service.suggest_for_intake(actor=agent, customer_id=same_person.customer_id)
    assert [(h.complaint_id, h.same_customer) for h in by_identity.repeats] == [(first, True)]
    stranger = await customer_with_car(tenant, "A")
    assert (await service.suggest_for_intake(actor=agent, customer_id=stranger.customer_id)).reasons == []


async def test_repeat_window_is_configurable_and_the_complaint_page_suggests_it(client, tenant):
    await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(repeat_window_days=30))
    start = clock.now()
    car = await customer_with_car(tenant)
    with _at(start):
        await complaint_for(tenant, car)
    with _at(start + timedelta(days=31)):
        later = await complaint_for(tenant, car)
        body = (await client.get(f"/api/v1/complaints/{later}/major",
                                 headers=await _headers_now(tenant, "call_center_agent"))).json()
    assert body["major"] is None and body["suggestion"]["repeats"] == []
    with _at(start + timedelta(days=29)):
        again = await complaint_for(tenant, car)
        body = (await client.get(f"/api/v1/complaints/{again}/major",
                                 headers=await _headers_now(tenant, "call_center_agent"))).json()
    assert body["suggestion"]["suggested_reasons"] == ["repeat"]
    assert again not in [h["complaint_id"] for h in body["suggestion"]["repeats"]]


# --- immediate alerts ----------------------------------------------------------------------------


async def test_marking_alerts_store_gm_department_head_brand_division_and_legal_at_once(tenant):
    complaint_id, major_id = await _new_major(tenant)
    u = tenant.users
    expected = {u["store_gm@A"], u["department_head@A"], u["brand_manager"], u["legal"]}
    assert await alert_recipients(major_id, 0) == expected
    sent = await notifications(major_id)
    assert {n["recipient"] for n in sent} == expected
    assert all("危机处理小组" in n["title_zh"] for n in sent)


async def test_store_of_another_division_alerts_that_division_and_management_stands_in(tenant):
    _, major_c = await _new_major(tenant, "C")
    assert tenant.users["brand_manager@div2"] in await alert_recipients(major_c, 0)
    await User.update({User.active: False}).where(
        User.id.is_in([tenant.users["brand_manager"], tenant.users["brand_manager@div2"]])
    )
    _, major_a = await _new_major(tenant, "A")
    recipients = await alert_recipients(major_a, 0)
    assert tenant.users["group_admin"] in recipients
    assert tenant.users["brand_manager"] not in recipients


async def test_extra_channels_of_a_level_reach_recipients_with_a_phone(tenant):
    await User.update({User.phone: "13900000001"}).where(User.id == tenant.users["legal"])
    await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(alert_channels=["sms"]))
    _, major_id = await _new_major(tenant)
    sms = await notifications(major_id, channel="sms")
    assert [n["recipient"] for n in sms] == [tenant.users["legal"]]


# --- the 24-hour rule and the ladder -------------------------------------------------------------


async def test_report_filed_at_23h59_means_no_escalation(tenant):
    start = clock.now()
    with _at(start):
        _, major_id = await _new_major(tenant)
    with _at(start + DAY - timedelta(minutes=1)):
        filed_at = await _file(tenant, major_id)
    with _at(start + DAY + timedelta(minutes=5)):
        await runner.sweep(groups=[tenant.group_id])
    major = await major_of_id(major_id)
    assert filed_at < major["report_due_at"]
    assert major["report_status"] == "filed" and not major["report_overdue"] and major["level_reached"] == 0
    assert await alert_levels(major_id) == [0]
    assert await notifications(major_id, user_id=tenant.users["hq_viewer"]) == []
    filed = await notifications(major_id, kind="major.report_filed")
    assert {n["recipient"] for n in filed} == {tenant.users["brand_manager"], tenant.users["legal"]}


async def test_no_report_escalates_at_24h_exactly_once_when_job_and_sweeper_race(tenant):
    start = clock.now()
    with _at(start):
        _, major_id = await _new_major(tenant)
    [level_timer] = await Timer.select(Timer.id).where(
        Timer.subject_type == "major_complaint", Timer.subject_id == major_id, Timer.kind == "major.report_missing"
    )
    with _at(start + DAY - timedelta(seconds=1)):
        assert await runner.fire_timer(level_timer["id"]) == "not_due"
        await runner.sweep(groups=[tenant.group_id])
    assert await alert_levels(major_id) == [0]
    with _at(start + DAY):
        mine = [tenant.group_id]
        await asyncio.gather(
            runner.sweep(groups=mine), runner.fire_timer(level_timer["id"]),
            runner.sweep(groups=mine), runner.fire_timer(level_timer["id"]),
        )
    assert await alert_levels(major_id) == [0, 1]
    assert await alert_recipients(major_id, 1) == {tenant.users["hq_viewer"]}
    assert len(await notifications(major_id, user_id=tenant.users["hq_viewer"])) == 1
    major = await major_of_id(major_id)
    assert major["report_overdue"] and major["level_reached"] == 1
    with _at(start + DAY + timedelta(minutes=10)):
        await runner.sweep(groups=[tenant.group_id])
    assert len(await notifications(major_id, user_id=tenant.users["hq_viewer"])) == 1


async def test_a_level_alerts_once_however_often_it_is_escalated(tenant):
    _, major_id = await _new_major(tenant)
    async with transaction():
        first = await service.escalate(major_id=major_id, level=1, group_id=tenant.group_id)
        again = await service.escalate(major_id=major_id, level=1, group_id=tenant.group_id)
    assert first is not None and again is None
    assert await alert_levels(major_id) == [0, 1]
    assert len(await notifications(major_id, user_id=tenant.users["hq_viewer"])) == 1


async def test_escalation_fires_after_redis_lost_everything(tenant):
    start = clock.now()
    with _at(start):
        _, major_id = await _new_major(tenant)
    await (await get_queue()).flushall()
    with _at(start + DAY + timedelta(seconds=1)):
        await runner.promote(groups=[tenant.group_id])
        await runner.sweep(groups=[tenant.group_id])
    assert await alert_levels(major_id) == [0, 1]
    assert len(await notifications(major_id, user_id=tenant.users["hq_viewer"])) == 1


async def test_overdue_flag_shows_on_the_board_and_for_other_hq_views(client, tenant):
    start = clock.now()
    with _at(start):
        complaint_id, major_id = await _new_major(tenant)
        _, on_time = await _new_major(tenant, "B")
    with _at(start + 2 * HOUR):
        await _file(tenant, on_time, "B")
    with _at(start + DAY + timedelta(seconds=1)):
        await runner.sweep(groups=[tenant.group_id])
        board = (await client.get("/api/v1/major", headers=await _headers_now(tenant, "hq_viewer"))).json()["items"]
    assert [m["id"] for m in board][:1] == [major_id]
    first = board[0]
    assert first["report_overdue"] and first["report_late"] and first["level_reached"] == 1
    assert first["seconds_to_report_deadline"] <= 0
    flags = await service.major_flags(actor=await scope_for_user(tenant.users["hq_viewer"]), complaint_ids=[complaint_id])
    assert flags[complaint_id] == service.MajorFlag(major_id, "missing", True)
    with _at(start + DAY + 2 * HOUR):
        late_filed = await _file(tenant, major_id)
        detail = (await client.get(f"/api/v1/major/{major_id}", headers=await _headers_now(tenant, "hq_viewer"))).json()
    assert detail["report_status"] == "filed" and detail["report_late"] and detail["report_overdue"]
    assert late_filed > start + DAY


async def test_acknowledgement_stops_renotification(client, tenant):
    start = clock.now()
    with _at(start):
        _, major_id = await _new_major(tenant)
    immediate = await alert_id(major_id, 0)
    u = tenant.users
    with _at(start + timedelta(minutes=30, seconds=1)):
        await runner.sweep(groups=[tenant.group_id])
    assert len(await notifications(major_id, user_id=u["legal"])) == 2
    for who in ("legal", "store_gm@A"):
        response = await client.post(f"/api/v1/major/alerts/{immediate}/acknowledge", headers=await tenant.headers(who))
        assert response.status_code == 200 and response.json()["acknowledged"]
    again = await client.post(f"/api/v1/major/alerts/{immediate}/acknowledge", headers=await tenant.headers("legal"))
    assert again.json()["acknowledged"] is False
    with _at(start + timedelta(minutes=60, seconds=2)):
        await runner.sweep(groups=[tenant.group_id])
    assert len(await notifications(major_id, user_id=u["legal"])) == 2
    assert len(await notifications(major_id, user_id=u["brand_manager"])) == 3
    assert (await MajorAlert.select(MajorAlert.rounds).where(MajorAlert.id == immediate).first())["rounds"] == 3
    for who in ("brand_manager", "department_head@A"):
        await client.post(f"/api/v1/major/alerts/{immediate}/acknowledge", headers=await tenant.headers(who))
    alert = await MajorAlert.select().where(MajorAlert.id == immediate).first()
    assert alert["settled_at"] is not None
    assert [t for t in await pending_major_timers(major_id) if t["kind"] == "major.renotify"] == []
    with _at(start + 3 * HOUR):
        await runner.sweep(groups=[tenant.group_id])
    assert len(await notifications(major_id, user_id=u["brand_manager"])) == 3


async def test_only_a_recipient_acknowledges_and_my_alerts_lists_what_waits(client, tenant):
    _, major_id = await _new_major(tenant)
    immediate = await alert_id(major_id, 0)
    not_mine = await client.post(f"/api/v1/major/alerts/{immediate}/acknowledge",
                                 headers=await tenant.headers("hq_viewer"))
    assert not_mine.status_code == 403
    mine = (await client.get("/api/v1/major/alerts/mine", headers=await tenant.headers("legal"))).json()
    assert immediate in [a["alert_id"] for a in mine["items"]] and mine["total"] == len(mine["items"])


async def test_group_ladder_with_an_unresolved_level(client, tenant, other_tenant):
    """A group adds "48 h unresolved → CEO again"; resolving in time stops it, the other group keeps the defaults."""
    ladder = {
        "levels": [
            {"delay_seconds": 86400, "condition": "report_missing", "roles": ["hq_viewer", "legal"]},
            {"delay_seconds": 172800, "condition": "unresolved", "roles": ["hq_viewer"], "channels": ["sms"],
             "label_zh": "48小时未解决:再次上报总裁"},
        ],
        "renotify_seconds": 7200,
    }
    response = await client.put("/api/v1/major/policy", json=ladder, headers=await tenant.headers("group_admin"))
    assert response.status_code == 200, response.text
    assert [lv["delay_seconds"] for lv in response.json()["levels"]] == [86400, 172800]
    other = (await client.get("/api/v1/major/policy", headers=await other_tenant.headers("group_admin"))).json()
    assert len(other["levels"]) == 1
    await User.update({User.phone: "13900000002"}).where(User.id == tenant.users["hq_viewer"])

    start = clock.now()
    with _at(start):
        unresolved_id, kept = await _new_major(tenant)
        resolved_id, solved = await _new_major(tenant, "B")
    with _at(start + 5 * HOUR):
        await _file(tenant, kept)
        await _file(tenant, solved, "B")
        await resolve(tenant, resolved_id, "B")
        brand = await tenant.scope("brand_manager")
        await service.forward_report(actor=brand, major_id=kept)  # forwarded in time: only the ladder is left
        await service.forward_report(actor=brand, major_id=solved)
    with _at(start + 2 * DAY + timedelta(seconds=1)):
        await runner.sweep(groups=[tenant.group_id])
    assert await alert_levels(kept) == [0, 2]
    assert await alert_levels(solved) == [0]
    sms = await notifications(kept, channel="sms")
    assert [n["recipient"] for n in sms] == [tenant.users["hq_viewer"]]
    assert sms[0]["title_zh"].startswith("48小时未解决:再次上报总裁")
    assert (await major_of_id(kept))["level_reached"] == 2


async def test_policy_is_checked_and_only_the_group_admin_changes_it(client, tenant):
    headers = await tenant.headers("group_admin")
    bad = await client.put("/api/v1/major/policy", headers=headers, json={
        "levels": [{"delay_seconds": 0, "condition": "unresolved", "roles": ["hq_viewer"]}],
    })
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"].startswith("levels")
    bad = await client.put("/api/v1/major/policy", headers=headers, json={
        "levels": [{"delay_seconds": 60, "condition": "unresolved", "roles": ["hq_viewer"], "channels": ["fax"]}],
    })
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "levels[0].channels"
    assert (await client.put("/api/v1/major/policy", headers=await tenant.headers("hq_viewer"), json={})).status_code == 403
    assert (await client.get("/api/v1/major/policy", headers=await tenant.headers("staff@A"))).status_code == 403


async def test_a_running_clock_keeps_the_policy_it_started_with(tenant):
    start = clock.now()
    with _at(start):
        _, major_id = await _new_major(tenant)
    await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(levels=[
        Level(delay_seconds=3600, condition=Condition.REPORT_MISSING, roles=[Role.LEGAL])
    ]))
    with _at(start + 2 * HOUR):
        await runner.sweep(groups=[tenant.group_id])
    assert await alert_levels(major_id) == [0]


async def test_closing_stops_everything_and_reopening_brings_the_remaining_levels_back(tenant):
    start = clock.now()
    with _at(start):
        complaint_id, major_id = await _new_major(tenant)
    with _at(start + HOUR):
        await resolve(tenant, complaint_id)
        await close(tenant, complaint_id)
    assert await pending_major_timers(major_id) == []
    assert (await MajorAlert.select(MajorAlert.settled_at).where(MajorAlert.major == major_id).first())["settled_at"]
    hq = await tenant.scope("hq_viewer")
    assert major_id not in [v.id for v in (await service.board(actor=hq)).items]
    with_closed = service.BoardFilter(include_closed=True)
    assert major_id in [v.id for v in (await service.board(actor=hq, filters=with_closed)).items]
    with _at(start + 2 * HOUR):
        await reopen_complaint(actor=await tenant.scope("store_gm@A"), complaint_id=complaint_id, reason="客户再次来电")
    [timer] = await pending_major_timers(major_id)
    assert timer["kind"] == "major.report_missing" and timer["due_at"] == start + DAY
    assert major_id in [v.id for v in (await service.board(actor=hq)).items]


async def test_rerouted_complaint_takes_its_major_rows_along(tenant):
    complaint_id, major_id = await _new_major(tenant)
    await reroute_complaint(actor=await tenant.scope("call_center_agent"), complaint_id=complaint_id,
                            store_id=tenant.store_b)
    store_b = await tenant.scope("store_gm@B")
    assert (await service.major_detail(actor=store_b, major_id=major_id)).store_id == tenant.store_b
    with pytest.raises(NotFound):
        await service.major_detail(actor=await tenant.scope("store_gm@A"), major_id=major_id)


# --- the report ----------------------------------------------------------------------------------


async def test_report_draft_then_file_then_forward(client, tenant):
    _, major_id = await _new_major(tenant)
    gm = await tenant.headers("store_gm@A")
    draft = await client.put(f"/api/v1/major/{major_id}/report", headers=gm, json={"facts": "客户堵门"})
    assert draft.status_code == 200 and draft.json()["report"]["status"] == "draft"
    incomplete = await client.post(f"/api/v1/major/{major_id}/report/file", headers=gm, json={"facts": "客户堵门"})
    assert incomplete.status_code == 400
    assert {"cause", "customer_demands", "responsible_people"} <= {e["field"] for e in incomplete.json()["errors"]}
    assert (await major_of_id(major_id))["report_status"] == "missing"
    early = await client.post(f"/api/v1/major/{major_id}/report/forward", headers=await tenant.headers("brand_manager"))
    assert early.status_code == 409
    body = {
        "facts": "客户堵门", "cause": "维修未彻底", "customer_demands": "退车", "actions_taken": "总经理接待",
        "media_risk": "high", "legal_risk": "medium", "risk_note": "客户联系了记者",
        "proposed_settlement": "更换总成", "responsible_people": [{"name": "张经理", "position": "售后经理"}],
    }
    filed = await client.post(f"/api/v1/major/{major_id}/report/file", headers=gm, json=body)
    assert filed.status_code == 200 and filed.json()["on_time"]
    assert (await client.put(f"/api/v1/major/{major_id}/report", headers=gm, json=body)).status_code == 409
    assert (await client.post(f"/api/v1/major/{major_id}/report/forward", headers=gm)).status_code == 403
    forwarded = await client.post(f"/api/v1/major/{major_id}/report/forward",
                                  headers=await tenant.headers("brand_manager"))
    assert forwarded.status_code == 200
    assert forwarded.json()["report_status"] == "forwarded"
    assert forwarded.json()["report"]["media_risk"] == "high"
    assert forwarded.json()["report"]["responsible_people"] == [{"name": "张经理", "position": "售后经理", "phone": ""}]
    to_hq = await notifications(major_id, kind="major.report_forwarded")
    assert [n["recipient"] for n in to_hq] == [tenant.users["hq_viewer"]]
    again = await client.post(f"/api/v1/major/{major_id}/report/forward", headers=await tenant.headers("brand_manager"))
    assert again.status_code == 409
    assert await MajorReport.count().where(MajorReport.major == major_id) == 1


# --- tenancy -------------------------------------------------------------------------------------


async def test_every_endpoint_is_404_across_stores_and_groups(client, tenant, other_tenant):
    complaint_id, major_id = await _new_major(tenant)
    car = await customer_with_car(tenant)
    immediate = await alert_id(major_id, 0)
    report = {"facts": "x"}
    calls = [
        ("POST", f"/api/v1/complaints/{complaint_id}/major", {"reasons": [{"reason": "repeat"}]}),
        ("GET", f"/api/v1/complaints/{complaint_id}/major", None),
        ("GET", f"/api/v1/major/repeat-check?customer_id={car.customer_id}", None),
        ("GET", f"/api/v1/major/{major_id}", None),
        ("PUT", f"/api/v1/major/{major_id}/report", report),
        ("POST", f"/api/v1/major/{major_id}/report/file", report),
        ("POST", f"/api/v1/major/{major_id}/report/forward", None),
        ("POST", f"/api/v1/major/alerts/{immediate}/acknowledge", None),
    ]
    outsiders = [(tenant, "store_gm@B"), (tenant, "store_cr_manager@B"), (other_tenant, "store_gm@A"),
                 (other_tenant, "brand_manager"), (other_tenant, "call_center_agent"), (other_tenant, "hq_viewer")]
    for owner, who in outsiders:
        headers = await owner.headers(who)
        for method, url, body in calls:
            response = await client.request(method, url, json=body, headers=headers)
            if response.status_code == 403:
                continue  # the role may not do it anywhere: refused before anything is looked up
            assert response.status_code == 404, (who, method, url, response.status_code)
        board = (await client.get("/api/v1/major?include_closed=true", headers=headers)).json()
        assert major_id not in [m["id"] for m in board["items"]] and board["total"] == len(board["items"])
        mine = (await client.get("/api/v1/major/alerts/mine", headers=headers)).json()
        assert immediate not in [a["alert_id"] for a in mine["items"]]
    other_board = await client.get(f"/api/v1/major?store_id={tenant.store_a}",
                                   headers=await other_tenant.headers("hq_viewer"))
    assert other_board.status_code == 404
    assert major_id in [m["id"] for m in (await client.get("/api/v1/major", headers=await tenant.headers("hq_viewer"))).json()["items"]]
    division2 = (await client.get("/api/v1/major", headers=await tenant.headers("brand_manager@div2"))).json()["items"]
    assert major_id not in [m["id"] for m in division2]
    assert (await client.get(f"/api/v1/major/{major_id}", headers=await tenant.headers("brand_manager@div2"))).status_code == 404


async def test_board_changes_are_published_for_viewers_of_the_store(tenant):
    from crm.major import board_events

    hq = await tenant.scope("hq_viewer")
    stream = board_events.listen(group_id=tenant.group_id, store_ids=hq.store_ids, idle_seconds=0.05)
    assert await anext(stream) is None  # subscribed, and nothing happened yet
    _, major_id = await _new_major(tenant, "B")
    event = await asyncio.wait_for(anext(stream), 10)
    assert event == {"major_id": major_id, "store_id": tenant.store_b}
    await stream.aclose()



async def test_transaction_rollback_leaves_no_major(tenant):
    car = await customer_with_car(tenant)
    complaint_id = await complaint_for(tenant, car)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with transaction():
            await major_complaint(tenant, complaint_id, MajorReason.TROUBLE_ON_SITE)
            raise Boom
    assert await major_of(complaint_id) is None
