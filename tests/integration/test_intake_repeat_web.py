"""The intake screen warns of repeat complaints (重复投诉) as soon as the agent picks the customer/vehicle, and
saving with "标记为重大投诉(重复投诉)" ticked records the complaint already major — in one transaction."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.complaints.tables import Complaint
from crm.major.tables import MajorReasonRow
from crm.timers.tables import Timer
from tests.integration.test_web_pages import browser_session, csrf_of  # noqa: F401 (fixture)
from tests.support.major import complaint_for, customer_with_car, major_of

WARNING = 'id="repeat-warning"'


async def _check(client, car):
    return await client.get("/complaint-intake/repeat", params={"customer_id": car.customer_id,
                                                                "vehicle_id": car.vehicle_id},
                            headers={"HX-Request": "true"})


async def _submit(client, tenant, car, **extra):
    page = await client.get("/complaint-intake")
    form = {"_csrf_token": csrf_of(page.text), "customer_id": str(car.customer_id), "vehicle_id": str(car.vehicle_id),
            "store_id": str(tenant.store_a), "channel": "hotline_400", "content": "变速箱又异响了", **extra}
    return await client.post("/complaint-intake", data=form)


async def test_repeat_within_the_window_is_shown_and_ticked_saving_marks_it_major(browser_session, tenant):
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
    assert 'name="mark_repeat" value="1" id="mark_repeat" checked' in shown.text
    assert "标记为重大投诉(重复投诉)" in shown.text

    done = await _submit(agent, tenant, car, mark_repeat="1")
    assert done.status_code == 303, done.text
    cid = int(done.headers["location"].rsplit("/", 1)[1])
    major = await major_of(cid)
    assert major is not None and major["marked_at"] is not None
    reasons = await MajorReasonRow.select(MajorReasonRow.reason).where(MajorReasonRow.major == major["id"])
    assert [r["reason"] for r in reasons] == ["repeat"]
    timers = await Timer.select().where(Timer.subject_type == "major_complaint", Timer.subject_id == major["id"],
                                        Timer.state == "pending")
    assert ("major.report_missing", major["marked_at"] + timedelta(hours=24)) in [(t["kind"], t["due_at"])
                                                                                  for t in timers]
    assert major["report_due_at"] == major["marked_at"] + timedelta(hours=24)

    plain = await _submit(agent, tenant, car)  # unticked: a normal complaint
    assert plain.status_code == 303
    assert await major_of(int(plain.headers["location"].rsplit("/", 1)[1])) is None


async def test_no_warning_outside_the_window(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(clock.now() - timedelta(days=91), tick=False):
        await complaint_for(tenant, car)
    agent = await browser_session(tenant.usernames["call_center_agent"])
    shown = await _check(agent, car)
    assert shown.status_code == 200 and WARNING not in shown.text and "mark_repeat" not in shown.text


async def test_no_warning_for_other_groups_or_invisible_stores(browser_session, tenant, other_tenant):
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


async def test_a_refused_marking_writes_nothing(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    await complaint_for(tenant, car)
    staff = await browser_session(tenant.usernames["staff@A"])
    shown = await _check(staff, car)
    assert WARNING in shown.text and "mark_repeat" not in shown.text  # warned, but not theirs to mark
    before = await Complaint.count()
    refused = await _submit(staff, tenant, car, mark_repeat="1")
    assert refused.status_code == 400
    assert await Complaint.count() == before
    assert WARNING in refused.text  # the form comes back with the warning
