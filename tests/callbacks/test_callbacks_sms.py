"""SMS-channel callbacks go through the notifications: handed over once when the timer fires, sent by the
notification worker with its retries, and the result recorded on the callback once."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.callbacks import messages, service
from crm.callbacks.tables import Callback, CallbackAttempt
from crm.customers.tables import Customer
from crm.notify import delivery, inbox
from crm.notify.tables import ChannelSetting, Notification
from crm.privacy import vault
from tests.support.callbacks import callbacks_of, delivered_customer, fire_callback_timers
from tests.support.receivers import http_receiver


async def _reminder(tenant, mobile: str = "13912345678") -> dict:
    _, _, sale_id = await delivered_customer(tenant, store_id=tenant.store_b, name="李雷", mobile=mobile)
    return (await callbacks_of("sale", sale_id))["runin_reminder"]


async def _gateway(tenant, url: str) -> None:
    await ChannelSetting.insert(ChannelSetting(group=tenant.group_id, channel="sms", url=url, secret="tok",
                                               updated_at=clock.now()))


async def _messages(callback_id: int) -> list[dict]:
    """The SMS rows of a callback, the customer's number opened (it is sealed at rest, `crm.privacy.vault`)."""
    return vault.open_rows(
        await Notification.select().where(Notification.idempotency_key == messages.idempotency_key(callback_id)))


async def _callback(callback_id: int) -> dict:
    return await Callback.select().where(Callback.id == callback_id).first()


async def _attempts(callback_id: int) -> list[dict]:
    return await CallbackAttempt.select().where(CallbackAttempt.callback == callback_id)


async def _deliver_until_settled(notification_id: int) -> list[str]:
    """Run the notification's deliveries as the worker would, each at its retry time."""
    outcomes = []
    for _ in range(10):
        row = await Notification.select().where(Notification.id == notification_id).first()
        if row["status"] not in ("pending", "sending"):
            return outcomes
        with time_machine.travel(max(row["next_attempt_at"], clock.now()), tick=False):
            outcomes.append((await delivery.deliver(notification_id))["outcome"])
    raise AssertionError(f"not settled: {outcomes}")


async def test_sent_once_even_when_the_timer_fires_twice(tenant):
    reminder = await _reminder(tenant)
    with http_receiver() as gateway:
        await _gateway(tenant, gateway.url)
        assert await fire_callback_timers(reminder["id"]) == ["fired"]
        assert gateway.requests == []  # nothing leaves inside the timer's transaction
        assert (await _callback(reminder["id"]))["state"] == "sending"
        again = await service.mark_due(  # the timer's job again
            callback_id=reminder["id"], group_id=reminder["group"], store_id=reminder["store"])
        assert again == "ignored"
        snapshot = {**reminder, "state": "scheduled"}  # two firings that both saw it scheduled
        await messages.send_callback_sms(snapshot)
        await messages.send_callback_sms(snapshot)
        [message] = await _messages(reminder["id"])
        assert message["recipient"] is None and message["address"] == "13912345678"
        assert await _deliver_until_settled(message["id"]) == ["delivered"]
        await delivery.deliver_due()
        requests = gateway.requests
    assert len(requests) == 1
    assert requests[0].body["to"] == "13912345678" and requests[0].headers["authorization"] == "Bearer tok"
    assert "李先生" in requests[0].body["text"] and "走合保养" in requests[0].body["text"]
    row = await _callback(reminder["id"])
    assert row["state"] == "done" and row["outcome"] == "sent" and row["attempts"] == 1
    [attempt] = await _attempts(reminder["id"])
    assert attempt["outcome"] == "sent" and "走合保养" in attempt["comment"]


async def test_gateway_failing_twice_then_succeeding_delivers_once(tenant):
    reminder = await _reminder(tenant)
    busy = (503, {"error": "busy"})
    with http_receiver(script=[busy, busy]) as gateway:
        await _gateway(tenant, gateway.url)
        await fire_callback_timers(reminder["id"])
        [message] = await _messages(reminder["id"])
        assert await _deliver_until_settled(message["id"]) == ["retry", "retry", "delivered"]
        assert (await delivery.deliver(message["id"]))["outcome"] == "skipped"
        requests = gateway.requests
    assert len(requests) == 3 and requests[0].body == requests[2].body
    row = await _callback(reminder["id"])
    assert row["state"] == "done" and row["outcome"] == "sent" and row["attempts"] == 1
    assert [a["outcome"] for a in await _attempts(reminder["id"])] == ["sent"]
    [message] = await _messages(reminder["id"])
    assert message["status"] == "delivered" and message["attempts"] == 3


async def test_permanent_failure_is_recorded_on_the_callback_and_shown_to_admins(client, tenant):
    reminder = await _reminder(tenant)
    with http_receiver(script=[(400, {"error": "invalid number"})]) as gateway:
        await _gateway(tenant, gateway.url)
        await fire_callback_timers(reminder["id"])
        [message] = await _messages(reminder["id"])
        assert await _deliver_until_settled(message["id"]) == ["failed"]
        assert len(gateway.requests) == 1
    row = await _callback(reminder["id"])
    assert row["state"] == "unreachable" and row["outcome"] == "failed" and row["attempts"] == 1
    [attempt] = await _attempts(reminder["id"])
    assert attempt["outcome"] == "failed" and "HTTP 400" in attempt["comment"]
    failed = await inbox.failed_deliveries(actor=await tenant.scope("group_admin"))
    [shown] = [f for f in failed.items if f["id"] == message["id"]]
    assert shown["recipient"] is None and shown["recipient_name"].endswith("139****5678")
    listed = await client.get("/api/v1/notifications/failed", headers=await tenant.headers("group_admin"))
    [api_row] = [f for f in listed.json()["items"] if f["id"] == message["id"]]
    assert api_row["recipient_id"] is None and api_row["channel"] == "sms" and "13912345678" not in listed.text


async def test_no_mobile_number_is_unreachable_at_once(tenant):
    reminder = await _reminder(tenant)
    await Customer.update({Customer.mobile: ""}).where(Customer.id == reminder["customer"])
    await fire_callback_timers(reminder["id"])
    row = await _callback(reminder["id"])
    assert row["state"] == "unreachable" and row["outcome"] == "failed"
    assert await _messages(reminder["id"]) == []


async def test_cancelled_while_sending_records_nothing(tenant):
    reminder = await _reminder(tenant)
    with http_receiver() as gateway:
        await _gateway(tenant, gateway.url)
        await fire_callback_timers(reminder["id"])
        await Callback.update({Callback.state: "cancelled"}).where(Callback.id == reminder["id"])
        [message] = await _messages(reminder["id"])
        with time_machine.travel(clock.now() + timedelta(seconds=1), tick=False):
            await _deliver_until_settled(message["id"])
    assert (await _callback(reminder["id"]))["state"] == "cancelled"
    assert await _attempts(reminder["id"]) == []


async def test_without_any_gateway_production_fails_for_good(tenant):
    """The tests run as production does (PostgreSQL): no gateway configured is a permanent failure, not the log."""
    reminder = await _reminder(tenant)
    await fire_callback_timers(reminder["id"])
    [message] = await _messages(reminder["id"])
    assert await _deliver_until_settled(message["id"]) == ["failed"]
    row = await _callback(reminder["id"])
    assert row["state"] == "unreachable" and row["outcome"] == "failed"
    assert "no sms endpoint configured" in (await _attempts(reminder["id"]))[0]["comment"]
