"""The intake screen warns of repeat complaints (重复投诉) as soon as the agent picks the customer/vehicle, and
the agent decides, with nothing pre-chosen: the same problem records it already major (重复投诉), a different
one needs a reason — in one transaction. Undecided complaints show the flag until group service decides."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from crm.complaints.tables import Complaint
from crm.major.tables import MajorReasonRow, RepeatCheck
from crm.timers.tables import Timer
from tests.support.web import csrf_of
from tests.support.builders import customer_with_car
from tests.support.major import complaint_for, major_of

WARNING = 'id="repeat-warning"'
WED_10 = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def _check(client, car):
    return await client.get("/complaint-intake/take", params={"customer_id": car.customer_id,
                                                                "vehicle_id": car.vehicle_id},
                            headers={"HX-Request": "true"})


async def _submit(client, tenant, car, **extra):
    page = await client.get("/complaint-intake")
    form = {"_csrf_token": csrf_of(page.text), "customer_id": str(car.customer_id), "vehicle_id": str(car.vehicle_id),
            "store_id": str(tenant.store_a), "channel": "hotline_400", "content": "变速箱又异响了", **extra}
    return await client.post("/complaint-intake", data=form)


async def test_repeat_is_shown_with_nothing_chosen_and_the_agent_must_decide(browser_session, tenant):
    with time_machine.travel(WED_10, tick=False):
        car = await customer_with_car(tenant, "A")
        first = await complaint_for(tenant, car)
        agent = await browser_session(tenant.usernames["call_center_agent"])
        page = await agent.get("/complaint-intake")
        assert 'id="repeat-check"' in page.text and WARNING not in page.text  # nothing chosen yet

        shown = await _check(agent, car)
        assert shown.status_code == 200 and WARNING in shown.text
        assert "该客户或车辆在近90天内已有投诉" in shown.text
        assert f'data-repeat="{first}"' in shown.text
        assert "变速箱异响,多次维修未解决" in shown.text and "待门店受理" in shown.text  # content and state
        assert "测试4S店A" in shown.text  # the store
        assert 'name="repeat_decision" value="same"' in shown.text
        assert 'name="repeat_decision" value="different"' in shown.text
        assert " checked" not in shown.text  # nothing pre-chosen
        assert "同一问题：标记为重大投诉（重复投诉）" in shown.text

        before = await Complaint.count()
        undecided = await _submit(agent, tenant, car)
        assert undecided.status_code == 400 and "请判断是否与之前的投诉为同一问题" in undecided.text
        no_reason = await _submit(agent, tenant, car, repeat_decision="different")
        assert no_reason.status_code == 400 and "判断为不同问题时须简要说明原因" in no_reason.text
        assert 'value="different" id="repeat_different" checked' in no_reason.text  # the choice is kept
        assert await Complaint.count() == before

        done = await _submit(agent, tenant, car, repeat_decision="same")
        assert done.status_code == 303, done.text
        cid = int(done.headers["location"].split("?")[0].rsplit("/", 1)[1])
        major = await major_of(cid)
        assert major is not None and major["marked_at"] == WED_10
        reasons = await MajorReasonRow.select(MajorReasonRow.reason).where(MajorReasonRow.major == major["id"])
        assert [r["reason"] for r in reasons] == ["repeat"]
        timers = await Timer.select().where(Timer.subject_type == "major_complaint", Timer.subject_id == major["id"],
                                            Timer.state == "pending")
        assert ("major.report_missing", WED_10 + timedelta(hours=24)) in [(t["kind"], t["due_at"]) for t in timers]

        different = await _submit(agent, tenant, car, repeat_decision="different", repeat_reason="这次是空调不制冷")
        assert different.status_code == 303
        other = int(different.headers["location"].split("?")[0].rsplit("/", 1)[1])
        assert await major_of(other) is None
        page = await agent.get(f"/complaints/{other}")
        assert "不同问题（非重复投诉）：这次是空调不制冷" in page.text and 'class="tag tag-warn repeat-flag"' not in page.text


async def test_undecided_complaint_shows_the_flag_until_group_service_decides_on_the_page(browser_session, tenant):
    with time_machine.travel(WED_10, tick=False):
        car = await customer_with_car(tenant, "A")
        first = await complaint_for(tenant, car)
        second = await complaint_for(tenant, car)  # the service intake: nobody decided
        cs = await browser_session(tenant.usernames["group_customer_service"])
        listed = await cs.get("/complaints")
        assert listed.text.count("repeat-flag") == 1 and "疑似重复投诉" in listed.text
        page = await cs.get(f"/complaints/{second}")
        assert 'id="repeat-flag"' in page.text and f'data-earlier="{first}"' in page.text
        assert 'id="act-repeat_decision"' in page.text
        form = {"_csrf_token": csrf_of(page.text), "repeat_decision": "different"}
        refused = await cs.post(f"/complaints/{second}/act/repeat_decision", data=form)
        assert refused.status_code == 400 and "判断为不同问题时须简要说明原因" in refused.text
        decided = await cs.post(f"/complaints/{second}/act/repeat_decision",
                                data={**form, "repeat_decision": "same"})
        assert decided.status_code == 303
        assert await major_of(second) is not None
        listed = await cs.get("/complaints")
        assert "repeat-flag" not in listed.text
        page = await cs.get(f"/complaints/{second}")
        assert 'id="act-repeat_decision"' not in page.text and "判断重复投诉" in page.text  # on the timeline
        outsider = await browser_session(tenant.usernames["store_cr_manager@B"])
        theirs = {**form, "_csrf_token": csrf_of((await outsider.get("/complaints")).text)}
        assert (await outsider.post(f"/complaints/{second}/act/repeat_decision", data=theirs)).status_code == 404


async def test_no_warning_outside_the_window(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WED_10 - timedelta(days=91), tick=False):
        await complaint_for(tenant, car)
    with time_machine.travel(WED_10, tick=False):
        agent = await browser_session(tenant.usernames["call_center_agent"])
        shown = await _check(agent, car)
        assert shown.status_code == 200 and WARNING not in shown.text and "repeat_decision" not in shown.text
        done = await _submit(agent, tenant, car)  # no repeat: no decision needed
        assert done.status_code == 303


async def test_no_warning_for_other_groups_or_invisible_stores(browser_session, tenant, other_tenant):
    with time_machine.travel(WED_10, tick=False):
        car = await customer_with_car(tenant, "A")
        # The same car complained about at store B (invisible to store A) and in another group.
        await complaint_for(tenant, await customer_with_car(tenant, "B", vin=car.vin), store="B")
        await complaint_for(other_tenant, await customer_with_car(other_tenant, "A", vin=car.vin))
        manager = await browser_session(tenant.usernames["store_cr_manager@A"])
        shown = await _check(manager, car)
        assert shown.status_code == 200 and WARNING not in shown.text
        # The group's call center sees store B's complaint; the other group's stays out.
        agent = await browser_session(tenant.usernames["call_center_agent"])
        shown = await _check(agent, car)
        assert WARNING in shown.text and shown.text.count("data-repeat=") == 1
        # Someone else's customer: 404, as everywhere.
        for owner, who in [(tenant, "store_cr_manager@B"), (other_tenant, "call_center_agent")]:
            client = await browser_session(owner.usernames[who])
            assert (await _check(client, car)).status_code == 404, who


async def test_a_refused_decision_writes_nothing_and_staff_leave_it_to_group_service(browser_session, tenant):
    with time_machine.travel(WED_10, tick=False):
        car = await customer_with_car(tenant, "A")
        await complaint_for(tenant, car)
        staff = await browser_session(tenant.usernames["staff@A"])
        shown = await _check(staff, car)
        assert WARNING in shown.text and "repeat_decision" not in shown.text  # warned, but not theirs to decide
        before = await Complaint.count()
        refused = await _submit(staff, tenant, car, repeat_decision="same")
        assert refused.status_code == 400
        assert await Complaint.count() == before
        assert WARNING in refused.text  # the form comes back with the warning
        left = await _submit(staff, tenant, car)  # no decision: recorded, flagged for group service
        assert left.status_code == 303
        cid = int(left.headers["location"].split("?")[0].rsplit("/", 1)[1])
        assert (await RepeatCheck.select(RepeatCheck.decision).where(RepeatCheck.complaint == cid).first()) == {
            "decision": ""}
