"""Notifications API: inbox, unread count, mark read, preferences, channel settings — and nothing across tenants."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx

from crm.notify.service import notify_users
from crm.notify.tables import Notification, NotificationPreference
from tenants.tables import User
from tests.support.builders import PASSWORD


async def _notify(tenant, who: str, title: str = "回访到期") -> int:
    key = uuid.uuid4().hex
    await notify_users(group_id=tenant.group_id, user_ids=[tenant.users[who]], kind="callback.due",
                       title_zh=title, title_en="Callback due", idempotency_key=key, store_id=tenant.store_a)
    return (await Notification.select(Notification.id).where(Notification.idempotency_key == key).first())["id"]


async def test_inbox_unread_and_mark_read(client, tenant):
    headers = await tenant.headers("callback_agent@A")
    first = await _notify(tenant, "callback_agent@A")
    second = await _notify(tenant, "callback_agent@A", "投诉已分派")
    listing = await client.get("/api/v1/notifications", headers=headers)
    assert listing.status_code == 200
    assert [n["id"] for n in listing.json()["items"]][:2] == [second, first] and listing.json()["total"] == 2
    assert (await client.get("/api/v1/notifications/unread-count", headers=headers)).json() == {"unread": 2}
    read = await client.post(f"/api/v1/notifications/{first}/read", headers=headers)
    assert read.status_code == 200 and read.json()["read_at"]
    unread = await client.get("/api/v1/notifications", params={"unread_only": "true"}, headers=headers)
    assert [n["id"] for n in unread.json()["items"]] == [second] and unread.json()["total"] == 1
    assert (await client.post("/api/v1/notifications/read-all", headers=headers)).json() == {"marked": 1}
    assert (await client.get("/api/v1/notifications/unread-count", headers=headers)).json() == {"unread": 0}


async def test_someone_elses_notification_is_404(client, tenant, other_tenant):
    mine = await _notify(tenant, "callback_agent@A")
    for headers in (
        await tenant.headers("callback_agent@B"),  # another store of the same group
        await tenant.headers("group_admin"),  # even the admin: an inbox is personal
        await other_tenant.headers("callback_agent@A"),  # another group
    ):
        response = await client.post(f"/api/v1/notifications/{mine}/read", headers=headers)
        assert response.status_code == 404
        listing = await client.get("/api/v1/notifications", headers=headers)
        assert mine not in [n["id"] for n in listing.json()["items"]] and listing.json()["total"] == 0
    assert (await Notification.select(Notification.read_at).where(Notification.id == mine).first())["read_at"] is None


async def test_preferences(client, tenant):
    who = "store_cr_manager@B"
    headers = await tenant.headers(who)
    assert (await client.get("/api/v1/notifications/preferences", headers=headers)).json() == {
        "email": False, "wecom": False, "dingtalk": False, "sms": False
    }
    no_address = await client.put("/api/v1/notifications/preferences", json={"email": True}, headers=headers)
    assert no_address.status_code == 400 and no_address.json()["errors"][0]["field"] == "email"
    assert await NotificationPreference.count().where(NotificationPreference.user == tenant.users[who]) == 0
    unknown = await client.put("/api/v1/notifications/preferences", json={"fax": True}, headers=headers)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "fax"
    await User.update({User.phone: "13800001234"}).where(User.id == tenant.users[who])
    ok = await client.put("/api/v1/notifications/preferences", json={"sms": True, "wecom": True}, headers=headers)
    assert ok.status_code == 200 and ok.json() == {"email": False, "wecom": True, "dingtalk": False, "sms": True}
    off = await client.put("/api/v1/notifications/preferences", json={"wecom": False}, headers=headers)
    assert off.json()["wecom"] is False and off.json()["sms"] is True


async def test_channel_settings_are_per_group_admin_only(client, tenant, other_tenant):
    admin = await tenant.headers("group_admin")
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY"
    response = await client.put("/api/v1/notifications/channels/wecom", json={"url": url}, headers=admin)
    assert response.status_code == 200
    assert response.json() == {"channel": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?…",
                               "has_secret": False, "enabled": True}
    bad = await client.put("/api/v1/notifications/channels/sms", json={"url": "ftp://x"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "url"
    assert (await client.put("/api/v1/notifications/channels/fax", json={"url": ""}, headers=admin)).status_code == 404
    assert [c["channel"] for c in (await client.get("/api/v1/notifications/channels", headers=admin)).json()["items"]] == [
        "wecom"
    ]
    other = await client.get("/api/v1/notifications/channels", headers=await other_tenant.headers("group_admin"))
    assert other.json()["items"] == [] and other.json()["total"] == 0
    store = await client.get("/api/v1/notifications/channels", headers=await tenant.headers("store_gm@A"))
    assert store.status_code == 403


async def test_live_stream_over_sse(app, tenant):
    """A real server: the API stream and the web-session stream each get the new notification."""
    import uvicorn

    from deploy.services import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # waiting for the server to listen, bounded
        if server.started:
            break
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as api, httpx.AsyncClient(
            base_url=base, timeout=10
        ) as browser:
            assert (await browser.get("/events")).status_code in (302, 303, 307)
            page = await browser.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            await browser.post("/login", data={"group_code": tenant.code, "username": tenant.usernames["store_gm@A"], "password": PASSWORD,
                                               "next": "/", "_csrf_token": token})
            headers = await tenant.headers("store_gm@A")
            async with api.stream("GET", "/api/v1/notifications/stream", headers=headers) as api_stream, \
                    browser.stream("GET", "/events") as web_stream:
                assert api_stream.headers["content-type"].startswith("text/event-stream")
                api_events, web_events = _events(api_stream), _events(web_stream)
                assert (await anext(api_events))[0] == "unread"
                assert (await anext(web_events))[0] == "unread"
                notification_id = await _notify(tenant, "store_gm@A", "重大投诉预警")
                event, data = await asyncio.wait_for(anext(api_events), 10)
                assert event == "notification"
                item = json.loads(data)
                assert item["id"] == notification_id and item["title_zh"] == "重大投诉预警"
                # the web UI's stream carries the same as HTML parts for the bell (htmx SSE extension)
                event, data = await asyncio.wait_for(anext(web_events), 10)
                assert event == "notification"
                assert f'href="/notifications/{notification_id}">重大投诉预警<' in data
                assert 'id="notif-badge" data-unread="1"' in data
    finally:
        server.should_exit = True
        await task


async def _events(response: httpx.Response):
    """(event, data) of each named event; the data's lines joined as the browser joins them."""
    event, data = None, []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].removeprefix(" "))
        elif not line and event:
            yield event, "\n".join(data)
            event, data = None, []
        elif not line:
            data = []
