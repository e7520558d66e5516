"""The group's own holiday schedule: consulted before the library (which stops at 2026), reported when a year
is unknown, managed by group admins only, and never shared between groups."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import re

import httpx
import time_machine

from crm.calendar.service import calendar_for_store
from crm.calendar.tables import CalendarOverride
from crm.complaints import service as complaints
from crm.timers.tables import Timer
from tests.support.callbacks import callbacks_of, make_customer, make_vehicle, make_visit
from tests.support.builders import PASSWORD, customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Made-up holiday block in 2027 (the library knows nothing of 2027): Wednesday 10 and Thursday 11 February off.
HOLIDAYS_2027 = [{"day": "2027-02-10", "kind": "holiday", "name": "春节"},
                 {"day": "2027-02-11", "kind": "holiday", "name": "春节"}]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


async def add_holidays(client, tenant, entries=HOLIDAYS_2027) -> list[dict]:
    response = await client.post("/api/v1/calendar/overrides", json={"overrides": entries},
                                 headers=await tenant.headers("group_admin"))
    assert response.status_code == 200, response.text
    assert response.json()["total"] == len(response.json()["items"])
    return response.json()["items"]


async def accept_due(tenant, at: datetime) -> datetime:
    car = await customer_with_car(tenant, "A")
    with time_machine.travel(at, tick=False):
        cid = await complaints.create_complaint(
            actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id, vehicle_id=car.vehicle_id,
            channel="hotline_400", content="提车时发现划痕",
        )
    timer = await Timer.select(Timer.due_at).where(
        Timer.subject_type == "complaint", Timer.subject_id == cid, Timer.kind == "complaint.accept_due"
    ).first()
    return timer["due_at"]


async def test_an_override_holiday_in_2027_moves_a_working_hours_deadline(client, tenant, other_tenant):
    # Tuesday 17:00: one working hour left that day, the second one falls on the next working day.
    tuesday_17 = local(date(2027, 2, 9), 17)
    assert await accept_due(tenant, tuesday_17) == local(date(2027, 2, 10), 9, 30)
    await add_holidays(client, other_tenant)  # another group's schedule changes nothing here
    assert await accept_due(tenant, tuesday_17) == local(date(2027, 2, 10), 9, 30)
    await add_holidays(client, tenant)
    assert await accept_due(tenant, tuesday_17) == local(date(2027, 2, 12), 9, 30)


async def test_an_override_holiday_and_make_up_workday_move_a_callbacks_contact_day(client, tenant, other_tenant):
    async def service_callback_due(left_at: datetime) -> datetime:
        with time_machine.travel(left_at + timedelta(minutes=1), tick=False):
            customer_id = await make_customer(tenant, tenant.store_b)
            vehicle_id = await make_vehicle(tenant, tenant.store_b, customer_id)
            visit_id = await make_visit(tenant, tenant.store_b, customer_id, vehicle_id, left_at)
        return (await callbacks_of("service_visit", visit_id))["service_callback_3d"]["due_at"]

    # The 3-day callback's earliest time is one day after the visit: Wednesday 15:00.
    tuesday_15 = local(date(2027, 2, 9), 15)
    assert await service_callback_due(tuesday_15) == local(date(2027, 2, 10), 15)
    await add_holidays(client, other_tenant)
    assert await service_callback_due(tuesday_15) == local(date(2027, 2, 10), 15)
    await add_holidays(client, tenant)
    # No calls on public holidays (default): the next contact window opens Friday 09:00.
    assert await service_callback_due(tuesday_15) == local(date(2027, 2, 12), 9)

    # A make-up Saturday (调休上班) counts as a working day even where weekends are not contact days.
    admin = await tenant.headers("group_admin")
    assert (await client.put(f"/api/v1/stores/{tenant.store_b}/calendar", json={"contact_on_weekends": False},
                             headers=admin)).status_code == 200
    friday_15 = local(date(2027, 2, 19), 15)
    assert await service_callback_due(friday_15) == local(date(2027, 2, 22), 9)
    await add_holidays(client, tenant, [{"day": "2027-02-20", "kind": "workday", "name": "春节调休"}])
    assert await service_callback_due(friday_15) == local(date(2027, 2, 20), 15)


async def test_coverage_lists_the_years_without_a_schedule(client, tenant, other_tenant):
    headers = await tenant.headers("hq_viewer")
    with time_machine.travel(local(date(2026, 11, 26), 10), tick=False):
        body = (await client.get("/api/v1/calendar/coverage", headers=headers)).json()
        assert body["uncovered"] == [2027]
        assert body["years"] == [{"year": 2026, "library": True, "overrides": 0, "covered": True},
                                 {"year": 2027, "library": False, "overrides": 0, "covered": False}]
        await add_holidays(client, other_tenant)
        assert (await client.get("/api/v1/calendar/coverage", headers=headers)).json()["uncovered"] == [2027]
        await add_holidays(client, tenant)
        body = (await client.get("/api/v1/calendar/coverage", headers=headers)).json()
        assert body["uncovered"] == [] and body["years"][1]["overrides"] == 2
    with time_machine.travel(local(date(2026, 3, 1), 10), tick=False):
        assert (await client.get("/api/v1/calendar/coverage", headers=headers)).json()["uncovered"] == []


async def test_home_page_warns_the_group_admin(app, client, tenant):
    async def home_of(key: str) -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
            page = await web.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            signed_in = await web.post("/login", data={"group_code": tenant.code, "username": tenant.usernames[key], "password": PASSWORD,
                                                       "next": "/", "_csrf_token": token})
            assert signed_in.status_code == 303
            return (await web.get("/")).text

    with time_machine.travel(local(date(2026, 11, 26), 10), tick=True):
        page = await home_of("group_admin")
        assert 'id="calendar-uncovered"' in page and "2027 年的放假与调休安排尚未录入" in page
        assert 'id="calendar-uncovered"' not in await home_of("store_gm@A")
        await add_holidays(client, tenant)
        assert 'id="calendar-uncovered"' not in await home_of("group_admin")


async def test_overrides_are_managed_by_group_admins_and_stay_in_their_group(client, tenant, other_tenant):
    ours = await add_holidays(client, tenant)
    theirs = await add_holidays(client, other_tenant, [{"day": "2027-02-10", "kind": "workday", "name": "别家"}])
    admin = await tenant.headers("group_admin")
    listed = (await client.get("/api/v1/calendar/overrides?year=2027", headers=admin)).json()
    assert [(o["day"], o["kind"], o["name"]) for o in listed["items"]] == [
        ("2027-02-10", "holiday", "春节"), ("2027-02-11", "holiday", "春节")] and listed["total"] == 2
    latest = (await client.get("/api/v1/calendar/overrides", params={"sort": "-day", "page_size": 1},
                               headers=admin)).json()
    assert (latest["items"][0]["day"], latest["total"], latest["pages"]) == ("2027-02-11", 2, 2)
    # Replacing by day keeps one entry per day.
    again = await add_holidays(client, tenant, [{"day": "2027-02-11", "kind": "workday", "name": "调休"}])
    assert again[0]["id"] == ours[1]["id"] and again[0]["kind"] == "workday"
    assert not (await calendar_for_store(tenant.store_a)).is_working_day(date(2027, 2, 10))
    assert (await calendar_for_store(other_tenant.store_a)).is_working_day(date(2027, 2, 10))

    # Another group's entry: invisible, and 404 to delete.
    assert (await client.delete(f"/api/v1/calendar/overrides/{theirs[0]['id']}", headers=admin)).status_code == 404
    assert await CalendarOverride.count().where(CalendarOverride.id == theirs[0]["id"]) == 1
    # Store roles read but may not change the group's schedule.
    gm = await tenant.headers("store_gm@A")
    assert (await client.get("/api/v1/calendar/overrides", headers=gm)).status_code == 200
    assert (await client.post("/api/v1/calendar/overrides", json={"overrides": HOLIDAYS_2027},
                              headers=gm)).status_code == 403
    assert (await client.delete(f"/api/v1/calendar/overrides/{ours[0]['id']}", headers=gm)).status_code == 403
    assert (await client.delete(f"/api/v1/calendar/overrides/{ours[0]['id']}", headers=admin)).status_code == 204
    assert (await client.delete(f"/api/v1/calendar/overrides/{ours[0]['id']}", headers=admin)).status_code == 404


async def test_bad_overrides_are_400_and_nothing_is_written(client, tenant):
    admin = await tenant.headers("group_admin")
    bad = [
        {"overrides": [{"day": "2027-02-30", "kind": "holiday"}]},
        {"overrides": [{"day": "2027-02-10", "kind": "vacation"}]},
        {"overrides": [{"day": "2027-02-10", "kind": "holiday", "name": "长" * 41}]},
        {"overrides": [{"day": "2027-02-10", "kind": "holiday", "extra": 1}]},
        {"overrides": []},
        {"overrides": [{"day": "2027-02-10", "kind": "holiday"}, {"day": "2027-02-10", "kind": "workday"}]},
    ]
    for body in bad:
        response = await client.post("/api/v1/calendar/overrides", json=body, headers=admin)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["field"], body
    assert await CalendarOverride.count().where(CalendarOverride.group == tenant.group_id) == 0
