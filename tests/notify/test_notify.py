"""Notifications: recorded once, delivered over real local servers with retries, admins see failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import timedelta

import time_machine

from crm import clock
from crm.db import transaction
from crm.notify import delivery
from crm.notify.service import notify_roles, notify_users
from crm.notify.tables import ChannelSetting, Notification, NotificationPreference
from crm.queue import get_queue
from crm import settings as settings_module
from crm.settings import get_settings
from tenants.roles import Role
from tenants.tables import User
from tests.support.receivers import http_receiver, smtp_server


async def _prefer(user_id: int, **channels: bool) -> None:
    await User.update({User.email: f"u{user_id}@example.test", User.phone: f"1380000{user_id:04d}"}).where(
        User.id == user_id
    )
    await NotificationPreference.delete().where(NotificationPreference.user == user_id)
    await NotificationPreference.insert(NotificationPreference(user=user_id, updated_at=clock.now(), **channels))


async def _configure(group_id: int, channel: str, url: str, secret: str = "") -> None:
    await ChannelSetting.insert(
        ChannelSetting(group=group_id, channel=channel, url=url, secret=secret, updated_at=clock.now())
    )


async def _notify(tenant, who: str, key: str | None = None) -> dict[str, int]:
    key = key or uuid.uuid4().hex
    await notify_users(
        group_id=tenant.group_id, user_ids=[tenant.users[who]], kind="complaint.routed",
        title_zh="新投诉待处理", title_en="New complaint to handle", body_zh="客户张三投诉维修质量",
        body_en="Customer Zhang complains about repair quality", link="/complaints/1", idempotency_key=key,
        store_id=tenant.store_a,
    )
    rows = await Notification.select(Notification.id, Notification.channel).where(
        Notification.idempotency_key == key
    )
    return {r["channel"]: r["id"] for r in rows}


async def _row(notification_id: int) -> dict:
    return await Notification.select().where(Notification.id == notification_id).first()


async def test_recorded_once_per_key_recipient_channel(tenant):
    user = tenant.users["store_gm@A"]
    await _prefer(user, sms=True)
    key = uuid.uuid4().hex
    first = await _notify(tenant, "store_gm@A", key)
    again = await _notify(tenant, "store_gm@A", key)
    assert set(first) == {"inapp", "sms"} and first == again
    assert await Notification.count().where(Notification.idempotency_key == key) == 2
    assert (await _row(first["inapp"]))["status"] == "delivered"
    queue = await get_queue()
    assert await queue.zscore("arq:queue", f"notify:{first['sms']}:0") is not None


async def test_notify_roles_reaches_store_and_division_users(tenant):
    key = uuid.uuid4().hex
    count = await notify_roles(
        group_id=tenant.group_id, roles=[Role.BRAND_MANAGER, Role.STORE_GM], store_id=tenant.store_c,
        kind="complaint.major", title_zh="重大投诉", title_en="Major complaint", idempotency_key=key,
    )
    rows = await Notification.select(Notification.recipient).where(Notification.idempotency_key == key)
    # store C's GM, the division-2 manager, and the group-wide brand manager; not division 1's people
    assert {r["recipient"] for r in rows} == {
        tenant.users["store_gm@C"], tenant.users["brand_manager@div2"], tenant.users["brand_manager"]
    }
    assert count == 3


async def test_channel_failing_three_times_then_succeeding_delivers_once(tenant):
    user = tenant.users["store_cr_manager@A"]
    await _prefer(user, wecom=True)
    failure = (500, {"errcode": -1, "errmsg": "busy"})
    with http_receiver(script=[failure, failure, (200, {"errcode": 45009, "errmsg": "limit"})]) as robot:
        await _configure(tenant.group_id, "wecom", robot.url + "/cgi-bin/webhook/send?key=abc")
        notification_id = (await _notify(tenant, "store_cr_manager@A"))["wecom"]
        start = clock.now()
        outcomes = []
        for minutes in (0, 1, 2, 3):
            with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
                outcomes.append((await delivery.deliver(notification_id))["outcome"])
                if minutes == 0:
                    assert (await delivery.deliver(notification_id))["outcome"] == "skipped"  # backing off
        with time_machine.travel(start + timedelta(minutes=10), tick=False):
            assert (await delivery.deliver(notification_id))["outcome"] == "skipped"
            await delivery.deliver_due()
        assert outcomes == ["retry", "retry", "retry", "delivered"]
        assert len(robot.requests) == 4
        assert robot.requests[-1].body["text"]["mentioned_mobile_list"] == [f"1380000{user:04d}"]
        assert "新投诉待处理" in robot.requests[-1].body["text"]["content"]
    row = await _row(notification_id)
    assert row["status"] == "delivered" and row["attempts"] == 4 and row["last_error"] == ""
    queue = await get_queue()
    assert await queue.zscore("arq:queue", f"notify:{notification_id}:3") is not None  # each retry was a job


async def test_dingtalk_robot_is_signed(tenant):
    await _prefer(tenant.users["store_gm@B"], dingtalk=True)
    with http_receiver() as robot:
        await _configure(tenant.group_id, "dingtalk", robot.url + "/robot/send?access_token=t0k", "SEC123")
        notification_id = (await _notify(tenant, "store_gm@B"))["dingtalk"]
        assert (await delivery.deliver(notification_id))["outcome"] == "delivered"
    request = robot.requests[0]
    assert request.query["access_token"] == "t0k"
    expected = base64.b64encode(
        hmac.new(b"SEC123", f"{request.query['timestamp']}\nSEC123".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == expected
    assert request.body["msgtype"] == "text" and request.body["at"]["atMobiles"]


async def test_email_over_smtp(tenant):
    user = tenant.users["hq_viewer"]
    await _prefer(user, email=True)
    with smtp_server() as smtp:
        await _configure(tenant.group_id, "email", smtp.url)
        notification_id = (await _notify(tenant, "hq_viewer"))["email"]
        assert (await delivery.deliver(notification_id))["outcome"] == "delivered"
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == f"u{user}@example.test" and mail["From"] == "crm@dealerdesk.test"
    assert "新投诉待处理" in str(mail["Subject"]) or "=?utf-8?" in str(mail["Subject"]).lower()
    # The link leaves the app, so it carries the site's address.
    text = mail.get_payload(decode=True).decode(mail.get_content_charset() or "utf-8")
    assert f"{get_settings().public_base_url}/complaints/1" in text


async def test_smtp_down_is_retried_then_fails_once_and_admin_sees_it(client, tenant, other_tenant):
    await _prefer(tenant.users["store_gm@C"], email=True)
    await _configure(tenant.group_id, "email", "smtp://127.0.0.1:9?sender=crm@dealerdesk.test")  # nothing listens
    notification_id = (await _notify(tenant, "store_gm@C"))["email"]
    at = clock.now()
    for _ in range(delivery.MAX_ATTEMPTS):
        at += delivery.backoff(delivery.MAX_ATTEMPTS)
        with time_machine.travel(at, tick=False):
            await delivery.deliver_due()
    row = await _row(notification_id)
    assert row["status"] == "failed" and row["attempts"] == delivery.MAX_ATTEMPTS and row["failed_at"]

    response = await client.get("/api/v1/notifications/failed", headers=await tenant.headers("group_admin"))
    assert response.status_code == 200
    failed = [f for f in response.json()["items"] if f["id"] == notification_id]
    assert len(failed) == 1 and failed[0]["channel"] == "email" and failed[0]["attempts"] == delivery.MAX_ATTEMPTS
    other = await client.get("/api/v1/notifications/failed", headers=await other_tenant.headers("group_admin"))
    assert notification_id not in [f["id"] for f in other.json()["items"]] and other.json()["total"] == 0
    store = await client.get("/api/v1/notifications/failed", headers=await tenant.headers("store_gm@A"))
    assert store.status_code == 403


def test_public_links_use_the_configured_base_url(monkeypatch):
    assert delivery.absolute_link("https://elsewhere.test/x") == "https://elsewhere.test/x"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://crm.example-group.cn/")
    assert settings_module._public_base_url() == "https://crm.example-group.cn"
    monkeypatch.delenv("PUBLIC_BASE_URL")
    monkeypatch.setenv("HOST", "10.0.0.5")
    monkeypatch.setenv("PORT", "8080")
    assert settings_module._public_base_url() == "http://10.0.0.5:8080"


async def test_gateway_refusal_is_permanent(tenant):
    await _prefer(tenant.users["callback_agent@A"], sms=True)
    with http_receiver(script=[(400, {"error": "bad number"})]) as gateway:
        await _configure(tenant.group_id, "sms", gateway.url + "/send", "gw-token")
        notification_id = (await _notify(tenant, "callback_agent@A"))["sms"]
        assert (await delivery.deliver(notification_id))["outcome"] == "failed"
    assert gateway.requests[0].headers["authorization"] == "Bearer gw-token"
    assert gateway.requests[0].body["to"].startswith("1380000")
    assert (await _row(notification_id))["status"] == "failed"


async def test_unconfigured_channel_fails_without_sending(tenant):
    await _prefer(tenant.users["staff@B"], wecom=True)
    notification_id = (await _notify(tenant, "staff@B"))["wecom"]
    result = await delivery.deliver(notification_id)
    assert result["outcome"] == "failed"
    assert "no wecom endpoint" in (await _row(notification_id))["last_error"]


async def test_rollback_records_and_sends_nothing(tenant):
    key = uuid.uuid4().hex
    try:
        async with transaction():
            await notify_users(group_id=tenant.group_id, user_ids=[tenant.users["staff@A"]], kind="x",
                               title_zh="x", title_en="x", idempotency_key=key)
            raise RuntimeError("rollback")
    except RuntimeError:
        pass
    assert await Notification.count().where(Notification.idempotency_key == key) == 0


async def test_users_of_another_group_are_never_notified(tenant, other_tenant):
    key = uuid.uuid4().hex
    count = await notify_users(group_id=tenant.group_id, user_ids=[other_tenant.users["store_gm@A"]], kind="x",
                               title_zh="x", title_en="x", idempotency_key=key)
    assert count == 0
