"""Calendar settings: group defaults, store overrides, who may change them, and nothing across tenants."""

from __future__ import annotations

import datetime as dt

from crm.calendar.service import calendar_for_store
from crm.calendar.tables import CalendarSetting
from tenants.tables import Store


async def test_store_overrides_group_field_by_field(client, tenant):
    admin = await tenant.headers("group_admin")
    response = await client.put("/api/v1/calendar", json={"contact_end": "21:00", "contact_on_weekends": False},
                                headers=admin)
    assert response.status_code == 200 and response.json()["contact_end"] == "21:00"
    gm = await tenant.headers("store_gm@A")
    store = await client.put(f"/api/v1/stores/{tenant.store_a}/calendar", json={"contact_start": "10:00"},
                             headers=gm)
    assert store.status_code == 200
    body = store.json()
    assert (body["contact_start"], body["contact_end"], body["contact_on_weekends"]) == ("10:00", "21:00", False)
    assert body["overrides"] == {"contact_start": "10:00"} and body["timezone"] == "Asia/Shanghai"

    calendar = await calendar_for_store(tenant.store_a)
    assert calendar.contact_start == dt.time(10, 0) and calendar.contact_end == dt.time(21, 0)
    other_store = await calendar_for_store(tenant.store_b)
    assert other_store.contact_start == dt.time(9, 0) and other_store.contact_end == dt.time(21, 0)

    cleared = await client.put(f"/api/v1/stores/{tenant.store_a}/calendar", json={"contact_start": None},
                               headers=gm)
    assert cleared.json()["contact_start"] == "09:00" and cleared.json()["overrides"] == {}


async def test_store_timezone_wins(tenant):
    await Store.update({Store.timezone: "Asia/Urumqi"}).where(Store.id == tenant.store_c)
    assert (await calendar_for_store(tenant.store_c)).tz.key == "Asia/Urumqi"


async def test_invalid_settings_are_400_and_nothing_is_written(client, tenant):
    gm = await tenant.headers("store_gm@B")
    before = await CalendarSetting.count().where(CalendarSetting.store == tenant.store_b)
    bad_format = await client.put(f"/api/v1/stores/{tenant.store_b}/calendar", json={"open_time": "8:30"},
                                  headers=gm)
    assert bad_format.status_code == 400 and bad_format.json()["errors"][0]["field"] == "open_time"
    inverted = await client.put(f"/api/v1/stores/{tenant.store_b}/calendar",
                                json={"contact_start": "21:00", "contact_end": "08:00"}, headers=gm)
    assert inverted.status_code == 400 and inverted.json()["errors"][0]["field"] == "contact_end"
    unknown = await client.put(f"/api/v1/stores/{tenant.store_b}/calendar", json={"lunch": "12:00"}, headers=gm)
    assert unknown.status_code == 400
    assert await CalendarSetting.count().where(CalendarSetting.store == tenant.store_b) == before


async def test_roles_and_tenants(client, tenant, other_tenant):
    # a store GM cannot change another store's calendar (404: not visible) nor the group's (403)
    gm_a = await tenant.headers("store_gm@A")
    assert (await client.put(f"/api/v1/stores/{tenant.store_b}/calendar", json={"open_time": "09:00"},
                             headers=gm_a)).status_code == 404
    assert (await client.get(f"/api/v1/stores/{tenant.store_b}/calendar", headers=gm_a)).status_code == 404
    assert (await client.put("/api/v1/calendar", json={"open_time": "09:00"}, headers=gm_a)).status_code == 403
    # staff may read their store's calendar but not change it
    staff = await tenant.headers("staff@A")
    assert (await client.get(f"/api/v1/stores/{tenant.store_a}/calendar", headers=staff)).status_code == 200
    assert (await client.put(f"/api/v1/stores/{tenant.store_a}/calendar", json={"open_time": "09:00"},
                             headers=staff)).status_code == 403
    # another group's admin sees none of this group's stores
    other_admin = await other_tenant.headers("group_admin")
    for method in ("get", "put"):
        kwargs = {"json": {"open_time": "09:00"}} if method == "put" else {}
        response = await getattr(client, method)(f"/api/v1/stores/{tenant.store_a}/calendar", headers=other_admin,
                                                 **kwargs)
        assert response.status_code == 404
