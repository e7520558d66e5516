"""Notifications name the object they are about (object_type, object_id): read from the link or given, shown by
the API, sent in the robots' and the SMS gateway's JSON, and backfilled from the link for older rows."""

from __future__ import annotations

import importlib
import uuid

from crm import clock
from crm.notify import delivery
from crm.notify.objects import object_of
from crm.notify.service import notify_users
from crm.notify.tables import ChannelSetting, Notification, NotificationPreference
from tenants.tables import User
from tests.support.receivers import http_receiver


def test_the_object_is_read_from_the_link():
    assert object_of("/complaints/123") == ("complaint", 123)
    assert object_of("/major/7") == ("major_complaint", 7)
    assert object_of("/callbacks/42?saved=1") == ("callback", 42)
    assert object_of("/reports/9/download?format=pdf") == ("report", 9)
    assert object_of("/complaints") == ("", None)
    assert object_of("/corrections") == ("", None)
    assert object_of("/complaints/12abc") == ("", None)
    assert object_of("") == ("", None)


async def _notify(tenant, who: str, **fields) -> dict[str, int]:
    key = uuid.uuid4().hex
    await notify_users(group_id=tenant.group_id, user_ids=[tenant.users[who]], kind="complaint.routed",
                       title_zh="新投诉待处理", title_en="New complaint to handle", idempotency_key=key,
                       store_id=tenant.store_a, **fields)
    rows = await Notification.select(Notification.id, Notification.channel).where(Notification.idempotency_key == key)
    return {r["channel"]: r["id"] for r in rows}


async def test_the_api_shows_the_object_beside_the_link(client, tenant):
    headers = await tenant.headers("store_cr_manager@A")
    linked = (await _notify(tenant, "store_cr_manager@A", link="/complaints/123"))["inapp"]
    named = (await _notify(tenant, "store_cr_manager@A", link="/corrections", about=("customer_correction", 5)))["inapp"]
    plain = (await _notify(tenant, "store_cr_manager@A"))["inapp"]
    got = {}
    for notification_id in (linked, named, plain):
        r = await client.post(f"/api/v1/notifications/{notification_id}/read", headers=headers)
        assert r.status_code == 200, r.text
        got[notification_id] = (r.json()["link"], r.json()["object_type"], r.json()["object_id"])
    assert got[linked] == ("/complaints/123", "complaint", 123)
    assert got[named] == ("/corrections", "customer_correction", 5)
    assert got[plain] == ("", "", None)


async def _prefer(user_id: int, **channels: bool) -> None:
    await User.update({User.phone: "13800001234"}).where(User.id == user_id)
    await NotificationPreference.delete().where(NotificationPreference.user == user_id)
    await NotificationPreference.insert(NotificationPreference(user=user_id, updated_at=clock.now(), **channels))


async def test_robots_and_the_sms_gateway_receive_the_object(tenant):
    await _prefer(tenant.users["store_gm@A"], wecom=True, dingtalk=True, sms=True)
    with http_receiver() as receiver:
        for channel, path in (("wecom", "/cgi-bin/webhook/send?key=k"), ("dingtalk", "/robot/send?access_token=t"),
                              ("sms", "/sms")):
            await ChannelSetting.insert(ChannelSetting(group=tenant.group_id, channel=channel,
                                                       url=receiver.url + path, updated_at=clock.now()))
        sent = await _notify(tenant, "store_gm@A", link="/complaints/77")
        for channel in ("wecom", "dingtalk", "sms"):
            assert (await delivery.deliver(sent[channel]))["outcome"] == "delivered", channel
    assert len(receiver.requests) == 3
    for request in receiver.requests:
        assert request.body["object_type"] == "complaint" and request.body["object_id"] == 77
    assert {r.body.get("msgtype") for r in receiver.requests} == {"text", None}


async def test_older_rows_are_backfilled_from_their_link(tenant):
    rows = {}
    for link in ("/complaints/77", "/major/5?tab=report", "/complaints", "/reports/9/download?format=pdf"):
        inserted = await Notification.insert(Notification(
            group=tenant.group_id, recipient=tenant.users["store_gm@A"], channel="inapp", kind="old", title_zh="旧",
            link=link, idempotency_key=uuid.uuid4().hex, status="delivered", created_at=clock.now(),
        )).returning(Notification.id)
        rows[link] = inserted[0]["id"]
    migration = importlib.import_module("crm.notify.piccolo_migrations.notify_2026_11_30t18_55_13_000001")
    await (await migration.forwards()).run()
    found = {r["link"]: (r["object_type"], r["object_id"]) for r in await Notification.select(
        Notification.link, Notification.object_type, Notification.object_id).where(Notification.id.is_in(list(rows.values())))}
    assert found == {"/complaints/77": ("complaint", 77), "/major/5?tab=report": ("major_complaint", 5),
                     "/complaints": ("", None), "/reports/9/download?format=pdf": ("report", 9)}
