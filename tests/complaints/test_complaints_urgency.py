"""Urgency (紧急 / 一般, seed 003 §4): set at intake, changed by the store's CR manager or group customer
service, urgent first in the lists, and the group's shorter acceptance deadline, recomputed on change.
Clocks pinned."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from crm.complaints import queries, service
from crm.complaints.authority import Policy, set_policy
from crm.complaints.tables import Complaint, ComplaintEvent
from crm.timers.tables import Timer
from tests.support.complaints import API, intake, step
from tests.support.complaints import act
from tests.support.web import csrf_of
from tests.support.builders import customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
WEDNESDAY_1930 = datetime(2026, 12, 2, 19, 30, tzinfo=SHANGHAI)


async def accept_timers(cid: int) -> list[tuple[str, datetime]]:
    rows = await Timer.select(Timer.state, Timer.due_at).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.kind == "complaint.accept_due"
    ).order_by(Timer.id)
    return [(r["state"], r["due_at"]) for r in rows]


async def test_urgent_complaints_get_the_shorter_acceptance_deadline(client, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        normal = await intake(client, tenant, car)
        urgent = await intake(client, tenant, car, urgency="urgent")
        bad = await intake(client, tenant, car, urgency="very", expect=400)
    assert bad["errors"][0]["field"] == "urgency"
    assert await accept_timers(normal) == [("pending", WEDNESDAY_10 + timedelta(hours=2))]
    assert await accept_timers(urgent) == [("pending", WEDNESDAY_10 + timedelta(hours=1))]

    # The group sets both; an urgent deadline may not be longer than the normal one.
    admin = await tenant.scope("group_admin")
    refused = await client.put(f"{API}/policy", json={"accept_working_hours": 2, "urgent_accept_working_hours": 3},
                               headers=await tenant.headers("group_admin"))
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "urgent_accept_working_hours"
    await set_policy(actor=admin, policy=Policy(accept_working_hours=4, urgent_accept_working_hours=2))
    # 19:30 is after hours: both count from Thursday's opening.
    with time_machine.travel(WEDNESDAY_1930, tick=False):
        evening_normal = await intake(client, tenant, car)
        evening_urgent = await intake(client, tenant, car, urgency="urgent")
    (_, normal_due), = await accept_timers(evening_normal)
    (_, urgent_due), = await accept_timers(evening_urgent)
    assert normal_due - urgent_due == timedelta(hours=2)
    assert urgent_due.astimezone(SHANGHAI).date() == WEDNESDAY_10.date() + timedelta(days=1)


async def test_changing_urgency_recomputes_the_deadline_and_leaves_a_timeline_entry(client, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        cid = await intake(client, tenant, car)
        traveller.shift(timedelta(minutes=20))
        await step(client, tenant, "department_head@A", cid, "urgency", {"urgency": "urgent"}, expect=403)
        same = await client.post(f"{API}/{cid}/urgency", json={"urgency": "normal"},
                                 headers=await tenant.headers("store_cr_manager@A"))
        assert same.status_code == 400 and same.json()["errors"][0]["field"] == "urgency"
        raised = await step(client, tenant, "store_cr_manager@A", cid, "urgency",
                            {"urgency": "urgent", "note": "客户堵门"})
        # Counted from routing, as before: 10:00 + 1 working hour.
        assert raised["summary"]["urgency"] == "urgent"
        assert raised["summary"]["due_at"].startswith("2026-12-02T03:00")
        assert await accept_timers(cid) == [("cancelled", WEDNESDAY_10 + timedelta(hours=2)),
                                            ("pending", WEDNESDAY_10 + timedelta(hours=1))]
        lowered = await step(client, tenant, "group_customer_service", cid, "urgency", {"urgency": "normal"})
        assert lowered["summary"]["urgency_zh"] == "一般"
        assert (await accept_timers(cid))[-1] == ("pending", WEDNESDAY_10 + timedelta(hours=2))

        # After acceptance urgency changes no deadline: the handling day does not depend on it.
        await step(client, tenant, "store_cr_manager@A", cid, "accept")
        before = await Complaint.select(Complaint.due_kind, Complaint.due_at).where(Complaint.id == cid).first()
        await step(client, tenant, "store_cr_manager@A", cid, "urgency", {"urgency": "urgent"})
        after = await Complaint.select(Complaint.due_kind, Complaint.due_at).where(Complaint.id == cid).first()
        assert before == after and after["due_kind"] == "handle"

    events = await ComplaintEvent.select(ComplaintEvent.action, ComplaintEvent.note, ComplaintEvent.data).where(
        ComplaintEvent.complaint == cid, ComplaintEvent.action == "set_urgency"
    ).order_by(ComplaintEvent.id).output(load_json=True)
    assert [(e["data"]["from"], e["data"]["to"]) for e in events] == [
        ("normal", "urgent"), ("urgent", "normal"), ("normal", "urgent")
    ]
    assert events[0]["note"] == "客户堵门"


async def test_urgent_complaints_sort_first(tenant):
    car = await customer_with_car(tenant, "A")
    agent = await tenant.scope("call_center_agent")
    for pinned in (WEDNESDAY_10, WEDNESDAY_1930):
        with time_machine.travel(pinned, tick=False) as traveller:
            normal = await service.create_complaint(actor=agent, customer_id=car.customer_id, channel="hotline_400",
                                                    content="一般投诉")
            traveller.shift(timedelta(minutes=30))
            # Later, and due later than the normal one … and still first.
            urgent = await service.create_complaint(actor=agent, customer_id=car.customer_id, channel="hotline_400",
                                                    content="紧急投诉", urgency="urgent")
            for who in ("store_cr_manager@A", "hq_viewer"):
                open_only = queries.ComplaintFilter(open_only=True)
                listed = [c.id for c in (await queries.list_complaints(actor=await tenant.scope(who),
                                                                       filters=open_only)).items]
                assert listed.index(urgent) < listed.index(normal), (pinned, who)
        await Complaint.update({Complaint.state: "closed"}).where(Complaint.id.is_in([normal, urgent]))


async def test_urgency_on_the_intake_form_and_the_complaint_page(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        agent = await browser_session(tenant.usernames["call_center_agent"])
        page = await agent.get("/complaint-intake")
        assert 'name="urgency" value="urgent"' in page.text
        form = {"_csrf_token": csrf_of(page.text), "customer_id": str(car.customer_id),
                "vehicle_id": str(car.vehicle_id), "store_id": str(tenant.store_a), "channel": "hotline_400",
                "content": "车辆无法启动,客户在路边等待", "urgency": "urgent"}
        bad = await agent.post("/complaint-intake", data={**form, "urgency": "x"})
        assert bad.status_code == 400 and "紧急程度须为紧急或一般" in bad.text
        done = await agent.post("/complaint-intake", data=form)
        assert done.status_code == 303
        cid = int(done.headers["location"].split("?")[0].rsplit("/", 1)[1])

        store = await browser_session(tenant.usernames["staff@A"])
        walk_in = await store.get("/complaint-intake")
        sent = await store.post("/complaint-intake", data={
            "_csrf_token": csrf_of(walk_in.text), "customer_id": str(car.customer_id), "channel": "walk_in",
            "content": "等待时间过长",
        })
        assert sent.status_code == 303
        normal = int(sent.headers["location"].split("?")[0].rsplit("/", 1)[1])

        manager = await browser_session(tenant.usernames["store_cr_manager@A"])
        inbox = await manager.get("/complaints")
        ids = [int(i) for i in re.findall(r'data-id="(\d+)"', inbox.text)]
        assert ids.index(cid) < ids.index(normal) and 'class="tag tag-danger urgent"' in inbox.text
        lowered = await act(manager, cid, "set_urgency", urgency="normal", note="客户已拖车到店")
        assert lowered.status_code == 303
        assert 'class="tag tag-danger urgent"' not in (await manager.get(f"/complaints/{cid}")).text
    rows = await Complaint.select(Complaint.id, Complaint.urgency).where(Complaint.id.is_in([cid, normal]))
    assert {r["id"]: r["urgency"] for r in rows} == {cid: "normal", normal: "normal"}
