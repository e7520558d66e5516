"""Notifications, per-user channel preferences and per-group channel settings."""

from __future__ import annotations

from piccolo.columns import BigInt, BigSerial, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from tenants.tables import DealerGroup, Store, User

CHANNELS = ("inapp", "email", "wecom", "dingtalk", "sms")
EXTERNAL_CHANNELS = ("email", "wecom", "dingtalk", "sms")


class Notification(Table, tablename="notification"):
    """One message to one user over one channel (通知).

    Unique on (idempotency_key, recipient, channel), and on (idempotency_key, channel)
    for messages to customers — see the migrations — so a notification is recorded
    once however often the code that raises it runs.
    In-app rows are delivered when written; the others go through the worker
    with retries (status pending → sending → delivered, or failed for good).
    """

    id = BigSerial(primary_key=True)
    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=True, default=None)
    # A user, or — for messages to customers (SMS reminders, greetings) — null with the mobile number in `address`.
    recipient = ForeignKey(User, null=True, default=None)
    # Sealed (`crm.privacy.vault`): room for the token of a 40-character address.
    address = Varchar(length=120, default="")
    channel = Varchar(length=12)
    kind = Varchar(length=60)
    title_zh = Varchar(length=200)
    title_en = Varchar(length=200, default="")
    body_zh = Text(default="")
    body_en = Text(default="")
    link = Varchar(length=300, default="")
    # The object the message is about, for integrations (e.g. "complaint", 123): see crm/notify/objects.py.
    object_type = Varchar(length=30, default="")
    object_id = BigInt(null=True, default=None)
    # What the message is about (e.g. "callback", 42): named in `delivery_settled` when it is delivered or fails.
    subject_type = Varchar(length=30, default="")
    subject_id = BigInt(null=True, default=None)
    # E-mail only: a file under DEALERDESK_VAR attached to the message (a report's PDF) and its file name.
    attachment_path = Varchar(length=200, default="")
    attachment_name = Varchar(length=200, default="")
    idempotency_key = Varchar(length=200)
    status = Varchar(length=12, default="pending")  # pending | sending | delivered | failed
    attempts = Integer(default=0)
    last_error = Text(default="")
    next_attempt_at = Timestamptz(null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class NotificationPreference(Table, tablename="notification_preference"):
    """Which channels a user wants besides in-app (always on)."""

    user = ForeignKey(User, null=False, unique=True)
    email = Boolean(default=False)
    wecom = Boolean(default=False)
    dingtalk = Boolean(default=False)
    sms = Boolean(default=False)
    updated_at = Timestamptz()


class ChannelSetting(Table, tablename="notify_channel_setting"):
    """A group's endpoint and secret for one external channel; environment variables are the fallback.

    email: `url` is `smtp://user:password@host:port?starttls=1&sender=...`;
    wecom / dingtalk: the robot webhook URL (dingtalk: `secret` signs it);
    sms: the gateway URL, `secret` its bearer token.
    """

    group = ForeignKey(DealerGroup, null=False)
    channel = Varchar(length=12)
    url = Varchar(length=500, default="")
    secret = Varchar(length=200, default="", secret=True)
    enabled = Boolean(default=True)
    updated_at = Timestamptz()
