"""Repeat complaints (疑似重复投诉) on every intake path, group customer service's decision deadline
(reminder, escalation), the brand division's forwarding deadline, and the crisis-team meeting — against
real PostgreSQL and Redis, each test at a pinned instant (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm.complaints.tables import ComplaintEvent
from crm.major import crisis, repeats, service
from crm.major.tables import MajorReasonRow, RepeatCheck
from crm.notify.tables import Notification
from crm.timers import runner
from crm.timers.tables import Timer
from tenants.accounts import issue_token
from tenants.errors import InvalidInput
from tests.support.builders import customer_with_car
from tests.support.major import alert_levels, complaint_for, major_of, major_of_id
from tests.support.web import csrf_of
from tests.support.major import complete_report

CN = ZoneInfo("Asia/Shanghai")
WED_10 = datetime(2026, 12, 2, 10, 0, tzinfo=CN)  # a workday morning
WED_17 = datetime(2026, 12, 2, 17, 0, tzinfo=CN)  # an hour before closing
WED_1930 = datetime(2026, 12, 2, 19, 30, tzinfo=CN)  # after hours
FRI_1730 = datetime(2026, 12, 4, 17, 30, tzinfo=CN)  # half an hour before the weekend
SUN_10 = datetime(2026, 12, 6, 10, 0, tzinfo=CN)
MINUTE = timedelta(minutes=1)


def _at(instant):
    return time_machine.travel(instant, tick=False)


async def _headers(tenant, who: str) -> dict[str, str]:
    token, _ = await issue_token(tenant.users[who], 1)
    return {"Authorization": f"Bearer {token}"}


async def _flag(complaint_id: int) -> dict | None:
    return await RepeatCheck.select().where(RepeatCheck.complaint == complaint_id).first().output(load_json=True)


async def _repeat_pair(tenant, **second) -> tuple[int, int]:
    """An earlier complaint and a second one of the same car (through the real intake)."""
    car = await customer_with_car(tenant, "A")
    first = await complaint_for(tenant, car)
    return first, await complaint_for(tenant, car, **second)


async def _sent(kind: str, link: str) -> list[dict]:
    return await Notification.select().where(Notification.kind == kind, Notification.link == link,
                                             Notification.channel == "inapp")


# --- detection on every path ---------------------------------------------------------------------


async def test_api_intake_flags_and_links_the_earlier_complaint_and_the_group_decides(client, tenant):
    with _at(WED_10):
        car = await customer_with_car(tenant, "A")
        first = await complaint_for(tenant, car)
        made = await client.post("/api/v1/complaints/", headers=await _headers(tenant, "call_center_agent"), json={
            "channel": "hotline_400", "content": "又坏了", "customer_id": car.customer_id,
            "vehicle_id": car.vehicle_id, "store_id": tenant.store_a,
        })
        assert made.status_code == 201, made.text
        cid = made.json()["id"]
        shown = await client.get(f"/api/v1/complaints/{cid}/repeat", headers=await _headers(tenant, "call_center_agent"))
        body = shown.json()
        assert body["earlier_complaint_ids"] == [first] and body["pending"] and not body["overdue"]
        assert datetime.fromisoformat(body["decision_due_at"]) == WED_10 + timedelta(hours=2)
        assert await major_of(cid) is None  # nobody decided: not major yet
        assert (await _flag(first)) is None  # the first complaint is no repeat
        events = await ComplaintEvent.select(ComplaintEvent.action).where(ComplaintEvent.complaint == cid)
        assert "repeat_flagged" in [e["action"] for e in events]


async def test_callback_and_manufacturer_paths_flag_too(tenant):
    from crm.callbacks.service import _complaint_from_callback

    with _at(WED_10):
        car = await customer_with_car(tenant, "A")
        first = await complaint_for(tenant, car)
        via_maker = await complaint_for(tenant, car, channel="manufacturer")
        assert (await _flag(via_maker))["earlier"] == [first]
        assert await major_of(via_maker) is not None  # major anyway (向厂方投诉), the repeat still to decide
        actor = await tenant.scope("store_cr_manager@A")
        cb = {"id": 1, "store": tenant.store_a, "customer": car.customer_id, "vehicle": car.vehicle_id,
              "kind": "service_3d"}
        from_callback = await _complaint_from_callback(actor, cb, "客户不满意:异响依旧")
        flag = await _flag(from_callback)
        assert flag is not None and set(flag["earlier"]) == {first, via_maker} and flag["decision"] == ""


@pytest.mark.parametrize("flagged_at, due", [
    (WED_10, WED_10 + timedelta(hours=2)),
    (WED_17, datetime(2026, 12, 3, 9, 30, tzinfo=CN)),  # 1 h on Wednesday, 1 h from Thursday 08:30
    (WED_1930, datetime(2026, 12, 3, 10, 30, tzinfo=CN)),  # after hours: from Thursday's opening
    (FRI_1730, datetime(2026, 12, 7, 10, 0, tzinfo=CN)),  # half an hour on Friday, the rest on Monday
    (SUN_10, datetime(2026, 12, 7, 10, 30, tzinfo=CN)),
])
async def test_decision_due_after_two_working_hours(tenant, flagged_at, due):
    with _at(flagged_at):
        _, second = await _repeat_pair(tenant)
    flag = await _flag(second)
    assert flag["decision_due_at"] == due
    timers = await Timer.select(Timer.kind, Timer.due_at).where(
        Timer.subject_type == repeats.SUBJECT, Timer.subject_id == flag["id"], Timer.state == "pending")
    assert (repeats.DUE, due) in [(t["kind"], t["due_at"]) for t in timers]


async def test_no_decision_reminds_then_escalates_once(tenant):
    with _at(WED_10):
        _, second = await _repeat_pair(tenant)
    link = f"/complaints/{second}"
    with _at(WED_10 + timedelta(hours=1) - MINUTE):
        await runner.sweep(groups=[tenant.group_id])
    assert await _sent("repeat.remind", link) == []
    with _at(WED_10 + timedelta(hours=1)):
        await runner.sweep(groups=[tenant.group_id])
    reminded = await _sent("repeat.remind", link)
    assert {n["recipient"] for n in reminded} == {tenant.users["group_customer_service"]}
    with _at(WED_10 + timedelta(hours=2) - MINUTE):
        await runner.sweep(groups=[tenant.group_id])
    assert not (await _flag(second))["overdue"]
    with _at(WED_10 + timedelta(hours=2)):
        await runner.sweep(groups=[tenant.group_id])
        await runner.sweep(groups=[tenant.group_id])
        assert await repeats.escalate(check_id=(await _flag(second))["id"], group_id=tenant.group_id) is False
    assert (await _flag(second))["overdue"]
    escalated = await _sent("repeat.overdue", link)
    assert {n["recipient"] for n in escalated} == {tenant.users["group_admin"], tenant.users["group_customer_service"]}
    events = await ComplaintEvent.select(ComplaintEvent.action).where(ComplaintEvent.complaint == second,
                                                                      ComplaintEvent.action == "repeat_overdue")
    assert len(events) == 1
    # Deciding late still works, and says it was late.
    with _at(WED_10 + timedelta(hours=3)):
        cs = await tenant.scope("group_customer_service")
        await repeats.decide(actor=cs, complaint_id=second, decision="different", reason="这次是空调问题")
    assert (await _flag(second))["decision"] == "different"


async def test_same_problem_makes_it_major_with_reason_repeat_and_cancels_the_deadline(client, tenant):
    with _at(WED_10):
        _, second = await _repeat_pair(tenant)
        answer = await client.post(f"/api/v1/complaints/{second}/repeat-decision",
                                   headers=await _headers(tenant, "group_customer_service"),
                                   json={"decision": "same"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["decision"] == "same" and not answer.json()["pending"]
    major = await major_of(second)
    reasons = await MajorReasonRow.select(MajorReasonRow.reason).where(MajorReasonRow.major == major["id"])
    assert [r["reason"] for r in reasons] == ["repeat"]
    flag = await _flag(second)
    assert await Timer.count().where(Timer.subject_type == repeats.SUBJECT, Timer.subject_id == flag["id"],
                                     Timer.state == "pending") == 0
    with _at(WED_10 + timedelta(hours=3)):
        await runner.sweep(groups=[tenant.group_id])
        again = await client.post(f"/api/v1/complaints/{second}/repeat-decision",
                                  headers=await _headers(tenant, "group_customer_service"),
                                  json={"decision": "different", "reason": "x"})
    assert again.status_code == 409
    assert not (await _flag(second))["overdue"]


async def test_different_problem_needs_a_reason_and_bad_input_is_4xx_with_messages(client, tenant):
    with _at(WED_10):
        first, second = await _repeat_pair(tenant)
        headers = await _headers(tenant, "group_customer_service")
        url = f"/api/v1/complaints/{second}/repeat-decision"
        for body in ({"decision": "different"}, {"decision": "different", "reason": "   "}):
            refused = await client.post(url, headers=headers, json=body)
            assert refused.status_code == 400, refused.text
            assert "repeat_reason" in refused.text and "原因" in refused.text and "reason" in refused.text
        for body in ({"decision": "maybe"}, {}, {"decision": "same", "extra": 1}, {"decision": "same", "reason": "x" * 201}):
            assert (await client.post(url, headers=headers, json=body)).status_code == 400, body
        assert (await _flag(second))["decision"] == ""
        not_flagged = await client.post(f"/api/v1/complaints/{first}/repeat-decision", headers=headers,
                                        json={"decision": "same"})
        assert not_flagged.status_code == 409
        staff = await client.post(url, headers=await _headers(tenant, "staff@A"), json={"decision": "same"})
        assert staff.status_code == 403
        done = await client.post(url, headers=headers, json={"decision": "different", "reason": "这次是空调问题"})
        assert done.status_code == 200 and done.json()["reason"] == "这次是空调问题"
    assert await major_of(second) is None


async def test_api_intake_with_a_decision_applies_it_at_once(client, tenant):
    with _at(WED_10):
        car = await customer_with_car(tenant, "A")
        await complaint_for(tenant, car)
        headers = await _headers(tenant, "call_center_agent")
        body = {"channel": "hotline_400", "content": "又坏了", "customer_id": car.customer_id,
                "vehicle_id": car.vehicle_id, "store_id": tenant.store_a}
        refused = await client.post("/api/v1/complaints/", headers=headers, json={**body, "repeat_decision": "different"})
        assert refused.status_code == 400 and "repeat_reason" in refused.text
        made = await client.post("/api/v1/complaints/", headers=headers, json={**body, "repeat_decision": "same"})
        assert made.status_code == 201
    cid = made.json()["id"]
    assert (await _flag(cid))["decision"] == "same" and await major_of(cid) is not None


async def test_repeat_endpoints_are_404_across_tenants(client, tenant, other_tenant):
    with _at(WED_10):
        _, second = await _repeat_pair(tenant)
        for owner, who in [(tenant, "store_cr_manager@B"), (other_tenant, "group_customer_service")]:
            headers = await _headers(owner, who)
            assert (await client.get(f"/api/v1/complaints/{second}/repeat", headers=headers)).status_code == 404
            decided = await client.post(f"/api/v1/complaints/{second}/repeat-decision", headers=headers,
                                        json={"decision": "same"})
            assert decided.status_code == 404, who
    assert (await _flag(second))["decision"] == ""


# --- the brand division forwards on time ---------------------------------------------------------


async def _filed_major(tenant, filed_at) -> int:
    with _at(filed_at - timedelta(hours=3)):
        car = await customer_with_car(tenant, "A")
        complaint_id = await complaint_for(tenant, car)
        major_id = await service.mark_major(actor=await tenant.scope("store_gm@A"), complaint_id=complaint_id,
                                            reasons=[service.ReasonInput(service.MajorReason.BLOCKING_GATE)])
    with _at(filed_at):
        await service.file_report(actor=await tenant.scope("store_gm@A"), major_id=major_id, form=complete_report())
    return major_id


async def test_forwarding_one_minute_before_the_deadline_cancels_it(tenant):
    major_id = await _filed_major(tenant, WED_10)
    with _at(WED_10 + timedelta(hours=2) - MINUTE):
        await service.forward_report(actor=await tenant.scope("brand_manager"), major_id=major_id)
    with _at(WED_10 + timedelta(hours=5)):
        await runner.sweep(groups=[tenant.group_id])
    assert service.FORWARD_LEVEL not in await alert_levels(major_id)
    assert await Timer.count().where(Timer.kind == service.FORWARD_DUE, Timer.subject_id == major_id,
                                     Timer.state == "pending") == 0


async def test_not_forwarded_escalates_at_two_hours_not_a_minute_before(client, tenant):
    major_id = await _filed_major(tenant, WED_1930)
    with _at(WED_1930 + timedelta(hours=2) - MINUTE):
        await runner.sweep(groups=[tenant.group_id])
    assert service.FORWARD_LEVEL not in await alert_levels(major_id)
    with _at(WED_1930 + timedelta(hours=2) + MINUTE):
        await runner.sweep(groups=[tenant.group_id])
        await runner.sweep(groups=[tenant.group_id])
        seen = await client.get(f"/api/v1/major/{major_id}", headers=await _headers(tenant, "hq_viewer"))
    assert (await alert_levels(major_id)).count(service.FORWARD_LEVEL) == 1
    body = seen.json()
    assert body["forward_overdue"] is True
    assert datetime.fromisoformat(body["forward_due_at"]) == WED_1930 + timedelta(hours=2)
    alerted = await Notification.select(Notification.recipient, Notification.title_zh).where(
        Notification.link == f"/major/{major_id}", Notification.kind == "major.alert", Notification.channel == "inapp",
        Notification.title_zh.like("%未按时转呈%"))
    assert {n["recipient"] for n in alerted} == {tenant.users["brand_manager"], tenant.users["hq_viewer"]}
    # Forwarding late settles the escalation's reminders.
    with _at(WED_1930 + timedelta(hours=3)):
        await service.forward_report(actor=await tenant.scope("brand_manager"), major_id=major_id)
    assert (await major_of_id(major_id))["report_status"] == "forwarded"


# --- the crisis team -----------------------------------------------------------------------------


async def test_gm_alert_prompts_the_crisis_meeting_which_is_recorded_and_shown(client, tenant):
    with _at(WED_10):
        car = await customer_with_car(tenant, "A")
        complaint_id = await complaint_for(tenant, car)
        major_id = await service.mark_major(actor=await tenant.scope("call_center_agent"), complaint_id=complaint_id,
                                            reasons=[service.ReasonInput(service.MajorReason.TROUBLE_ON_SITE)])
    gm_alert = await Notification.select().where(
        Notification.recipient == tenant.users["store_gm@A"], Notification.link == f"/major/{major_id}",
        Notification.channel == "inapp").first()
    assert "危机处理小组" in gm_alert["title_zh"] and "登记会议" in gm_alert["body_zh"]
    with _at(WED_10 + timedelta(hours=2)):
        url = f"/api/v1/major/{major_id}/crisis-meetings"
        headers = await _headers(tenant, "store_gm@A")
        meeting = {"held_at": (WED_10 + timedelta(hours=1)).isoformat(), "decisions": "总经理亲自回访,48小时内给出方案",
                   "members": [{"name": "张总", "position": "总经理"}, {"name": "李经理", "position": "客关部经理"}]}
        made = await client.post(url, headers=headers, json=meeting)
        assert made.status_code == 201, made.text
        shown = made.json()["meetings"]
        assert [m["name"] for m in shown[0]["members"]] == ["张总", "李经理"]
        assert shown[0]["decisions"].startswith("总经理亲自回访")
        for bad, field in [({**meeting, "members": []}, "members"),
                           ({**meeting, "held_at": (WED_10 + timedelta(hours=5)).isoformat()}, "held_at"),
                           ({**meeting, "held_at": (WED_10 - timedelta(days=3)).isoformat()}, "held_at"),
                           ({**meeting, "decisions": "  "}, "decisions"),
                           ({**meeting, "held_at": "昨天"}, "held_at")]:
            refused = await client.post(url, headers=headers, json=bad)
            assert refused.status_code == 400 and field in refused.text, (bad, refused.text)
        staff = await client.post(url, headers=await _headers(tenant, "staff@A"), json=meeting)
        assert staff.status_code == 403
    assert len(await crisis.meetings(group_id=tenant.group_id, major_id=major_id)) == 1
    events = await ComplaintEvent.select(ComplaintEvent.note).where(ComplaintEvent.complaint == complaint_id,
                                                                    ComplaintEvent.action == "crisis_meeting")
    assert len(events) == 1 and "张总" in events[0]["note"]


async def test_crisis_meeting_is_404_across_tenants_and_checked_in_the_service(client, tenant, other_tenant):
    with _at(WED_10):
        car = await customer_with_car(tenant, "A")
        complaint_id = await complaint_for(tenant, car)
        major_id = await service.mark_major(actor=await tenant.scope("call_center_agent"), complaint_id=complaint_id,
                                            reasons=[service.ReasonInput(service.MajorReason.TROUBLE_ON_SITE)])
        meeting = {"held_at": WED_10.isoformat(), "decisions": "安抚客户", "members": [{"name": "张总"}]}
        for owner, who in [(tenant, "store_gm@B"), (other_tenant, "store_gm@A")]:
            answer = await client.post(f"/api/v1/major/{major_id}/crisis-meetings",
                                       headers=await _headers(owner, who), json=meeting)
            assert answer.status_code == 404, who
        with pytest.raises(InvalidInput):
            await crisis.record_meeting(actor=await tenant.scope("store_gm@A"), major_id=major_id,
                                        held_at=None, members=[], decisions="")
    assert await crisis.meetings(group_id=tenant.group_id, major_id=major_id) == []


async def test_crisis_meeting_web_form_on_the_major_page(browser_session, tenant):
    with _at(WED_10):
        car = await customer_with_car(tenant, "A")
        complaint_id = await complaint_for(tenant, car)
        major_id = await service.mark_major(actor=await tenant.scope("call_center_agent"), complaint_id=complaint_id,
                                            reasons=[service.ReasonInput(service.MajorReason.TROUBLE_ON_SITE)])
        gm = await browser_session(tenant.usernames["store_gm@A"])
        page = await gm.get(f"/major/{major_id}")
        assert 'id="crisis-form"' in page.text and 'id="crisis-none"' in page.text
        form = {"_csrf_token": csrf_of(page.text), "held_at": "2026-12-02T10:00", "decisions": "",
                "member_name": ["张总", ""], "member_position": ["总经理", ""]}
        refused = await gm.post(f"/major/{major_id}/crisis-meeting", data=form)
        assert refused.status_code == 400 and "请填写会议决定的应对办法" in refused.text
        assert 'value="张总"' in refused.text  # what was typed comes back
        done = await gm.post(f"/major/{major_id}/crisis-meeting", data={**form, "decisions": "总经理当面致歉"})
        assert done.status_code == 303
        page = await gm.get(f"/major/{major_id}")
        assert "总经理当面致歉" in page.text and "张总（总经理）" in page.text
    meetings = await crisis.meetings(group_id=tenant.group_id, major_id=major_id)
    assert meetings[0].held_at == WED_10  # the group's wall-clock time
