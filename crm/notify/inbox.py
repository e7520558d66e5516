"""What a signed-in user does with notifications: their in-app inbox, their channel preferences;
and what a group admin sees: failed deliveries and the group's channel settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crm import clock, lists
from crm.db import transaction
from crm.notify import channels
from crm.notify.tables import EXTERNAL_CHANNELS, ChannelSetting, Notification, NotificationPreference
from crm.privacy.policy import mask
from tenants import audit
from tenants.errors import InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope
from tenants.tables import User

# Who may see the group's undeliverable notifications and set its channel endpoints (gateway secrets).
DELIVERY_ADMINS = frozenset({Role.GROUP_ADMIN})
_INBOX_COLUMNS = (
    Notification.id, Notification.kind, Notification.store, Notification.title_zh, Notification.title_en,
    Notification.body_zh, Notification.body_en, Notification.link, Notification.object_type, Notification.object_id,
    Notification.created_at, Notification.read_at,
)


INBOX_LIST = lists.ListSpec(
    name="notifications",
    sorts={"created": (Notification.id,), "title": (Notification.title_zh,), "kind": (Notification.kind,),
           "read": (Notification.read_at,)},
    default_sort="-created",
    tiebreak=Notification.id,
    page_size=30,
)
FAILED_LIST = lists.ListSpec(
    name="failed_deliveries",
    sorts={"failed": (Notification.failed_at,), "title": (Notification.title_zh,),
           "recipient": (Notification.recipient.display_name, Notification.address),
           "channel": (Notification.channel,), "attempts": (Notification.attempts,),
           "error": (Notification.last_error,)},
    default_sort="-failed",
    tiebreak=Notification.id,
    page_size=100,
)


async def list_mine(*, actor: Scope, limit: int) -> list[dict[str, Any]]:
    """The caller's latest in-app notifications (the bell's panel)."""
    return await actor.group_wide().select(Notification, *_INBOX_COLUMNS).where(_mine(actor)).order_by(
        Notification.id, ascending=False).limit(limit)


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox keeps: the JSON list and the page each build one and pass it down."""

    unread_only: bool = False


async def page_mine(*, actor: Scope, filters: InboxFilter = InboxFilter(), want: lists.ListQuery | None = None
                    ) -> lists.Page[dict[str, Any]]:
    """The caller's in-app notifications, a page at a time with the total, newest first unless sorted otherwise."""
    want = want or INBOX_LIST.parse()
    where = [_mine(actor)]
    if filters.unread_only:
        where.append(Notification.read_at.is_null())
    rows, total = await lists.fetch(INBOX_LIST, want,
                                    rows=actor.group_wide().select(Notification, *_INBOX_COLUMNS).where(*where),
                                    count=actor.group_wide().count(Notification).where(*where))
    return want.page_of(rows, total)


async def unread_count(*, actor: Scope) -> int:
    return await actor.group_wide().count(Notification).where(_mine(actor), Notification.read_at.is_null())


async def mark_read(*, actor: Scope, notification_id: int) -> dict[str, Any]:
    """Mark one of the caller's notifications read (NotFound for anyone else's)."""
    async with transaction():
        row = await actor.group_wide().select(Notification, *_INBOX_COLUMNS).where(
            _mine(actor), Notification.id == notification_id
        ).first()
        if row is None:
            raise NotFound("notification")
        if row["read_at"] is None:
            row["read_at"] = clock.now()
            await actor.group_wide().update(Notification, {Notification.read_at: row["read_at"]}).where(
                Notification.id == notification_id
            )
    return row


async def mark_all_read(*, actor: Scope) -> int:
    rows = await actor.group_wide().update(Notification, {Notification.read_at: clock.now()}).where(
        _mine(actor), Notification.read_at.is_null()
    ).returning(Notification.id)
    return len(rows)


async def failed_deliveries(*, actor: Scope, want: lists.ListQuery | None = None) -> lists.Page[dict[str, Any]]:
    """Notifications that could not be delivered for good, in the admin's group (投递失败), a page at a time.

    Messages to customers (no user recipient) name the customer by a masked mobile number.
    """
    actor.require_role(*DELIVERY_ADMINS)
    want = want or FAILED_LIST.parse()
    failed = Notification.status == "failed"
    rows, total = await lists.fetch(FAILED_LIST, want, rows=actor.group_wide().select(
        Notification,
        Notification.id, Notification.store, Notification.recipient, Notification.recipient.display_name,
        Notification.address,
        Notification.channel, Notification.kind, Notification.title_zh, Notification.title_en,
        Notification.attempts, Notification.last_error, Notification.failed_at,
    ).where(failed), count=actor.group_wide().count(Notification).where(failed))
    for row in rows:
        name = row.pop("recipient.display_name")
        address = row.pop("address")
        row["recipient_name"] = name if row["recipient"] is not None else f"客户 customer {mask('mobile', address)}"
    return want.page_of(rows, total)


async def preferences(*, actor: Scope) -> dict[str, bool]:
    row = await NotificationPreference.select().where(NotificationPreference.user == actor.user_id).first()
    return {channel: bool(row and row[channel]) for channel in EXTERNAL_CHANNELS}


async def set_preferences(*, actor: Scope, channels: dict[str, bool]) -> dict[str, bool]:
    """Choose external channels; e-mail and SMS need an address on the user's profile."""
    unknown = set(channels) - set(EXTERNAL_CHANNELS)
    if unknown:
        raise InvalidInput.one(sorted(unknown)[0], "未知的通知渠道", "Unknown channel")
    user = await User.select(User.email, User.phone).where(User.id == actor.user_id).first()
    if channels.get("email") and not user["email"]:
        raise InvalidInput.one("email", "请先在个人资料中填写邮箱", "Add an e-mail address to your profile first")
    if channels.get("sms") and not user["phone"]:
        raise InvalidInput.one("sms", "请先在个人资料中填写手机号", "Add a mobile number to your profile first")
    values = {getattr(NotificationPreference, c): bool(v) for c, v in channels.items()}
    async with transaction():
        existing = await NotificationPreference.select(NotificationPreference.id).where(
            NotificationPreference.user == actor.user_id
        ).first()
        if existing is None:
            await NotificationPreference.insert(
                NotificationPreference(user=actor.user_id, updated_at=clock.now(), **channels)
            )
        elif values:
            await NotificationPreference.update({**values, NotificationPreference.updated_at: clock.now()}).where(
                NotificationPreference.id == existing["id"]
            )
    return await preferences(actor=actor)


async def channel_settings(*, actor: Scope) -> list[dict[str, Any]]:
    """The group's channel endpoints; secrets are never shown, only whether one is set."""
    actor.require_role(*DELIVERY_ADMINS)
    rows = await actor.filter_group(ChannelSetting.select(), ChannelSetting).order_by(ChannelSetting.channel)
    return [
        {"channel": r["channel"], "url": _mask_url(r["url"]), "has_secret": bool(r["secret"]), "enabled": r["enabled"]}
        for r in rows
    ]


async def set_channel_setting(*, actor: Scope, channel: str, url: str | None, secret: str | None, enabled: bool
                              ) -> dict[str, Any]:
    """Set the group's endpoint; `url` or `secret` None keeps the saved one (the screen never shows either)."""
    actor.require_role(*DELIVERY_ADMINS)
    if channel not in EXTERNAL_CHANNELS:
        raise NotFound("channel")
    scheme = "smtp" if channel == "email" else "http"
    if url and not url.startswith(scheme):
        raise InvalidInput.one("url", f"地址必须以 {scheme} 开头", f"The URL must start with {scheme}")
    async with transaction():
        existing = await actor.filter_group(ChannelSetting.select(), ChannelSetting).where(
            ChannelSetting.channel == channel
        ).first()
        if url is None:
            if existing is None:
                raise InvalidInput.one("url", "请填写地址", "Enter the URL")
            url = existing["url"]
        values = {ChannelSetting.url: url, ChannelSetting.enabled: enabled, ChannelSetting.updated_at: clock.now()}
        if secret is not None:
            values[ChannelSetting.secret] = secret
        if existing is None:
            await ChannelSetting.insert(ChannelSetting(
                group=actor.group_id, channel=channel, url=url, secret=secret or "", enabled=enabled,
                updated_at=clock.now(),
            ))
        else:
            await actor.update(ChannelSetting, values).where(ChannelSetting.id == existing["id"])
        # Never the secret or the URL's token: only where it points and whether a secret changed.
        before = {"url": _mask_url(existing["url"]), "enabled": existing["enabled"]} if existing else {}
        after = {"url": _mask_url(url), "enabled": enabled}
        if secret is not None and (existing is None or secret != existing["secret"]):
            before["secret"], after["secret"] = "…", "changed"
        await audit.record(actor, "notify.channel", "channel", channel, before=before, after=after)
    return next(s for s in await channel_settings(actor=actor) if s["channel"] == channel)


@dataclass(frozen=True)
class TestResult:
    ok: bool
    detail: str  # the channel's own answer on failure (no secrets: endpoints are never echoed)


async def send_test(*, actor: Scope, channel: str, to: str) -> TestResult:
    """Send a test message through the group's channel as configured now, and say whether it went out.

    `to` is the address (e-mail) or mobile number (SMS, and who the robots @-mention); the robots need none."""
    actor.require_role(*DELIVERY_ADMINS)
    if channel not in EXTERNAL_CHANNELS:
        raise NotFound("channel")
    to = to.strip()
    if channel == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", to):
        raise InvalidInput.one("to", "请填写有效的电子邮箱", "Enter a valid e-mail address")
    if channel == "sms" and not re.fullmatch(r"1\d{10}", to):
        raise InvalidInput.one("to", "请填写11位手机号码", "Enter an 11-digit mobile number")
    if channel in ("wecom", "dingtalk") and to and not re.fullmatch(r"1\d{10}", to):
        raise InvalidInput.one("to", "请填写11位手机号码或留空", "Enter an 11-digit mobile number or leave it empty")
    message = channels.Message(
        title="dealerdesk 测试消息 / test message",
        body=f"{actor.display_name} 于 {clock.now():%Y-%m-%d %H:%M} UTC 发送的渠道测试。",
        link="", email=to if channel == "email" else "", phone=to if channel != "email" else "", name=actor.display_name,
    )
    try:
        endpoint = await channels.endpoint_for(actor.group_id or -1, channel)
        await channels.send(channel, endpoint, message)
    except channels.ChannelError as error:
        return TestResult(ok=False, detail=str(error))
    return TestResult(ok=True, detail="")


def _mine(actor: Scope):
    return (Notification.recipient == actor.user_id) & (Notification.channel == "inapp")



def _mask_url(url: str) -> str:
    """Robot webhook URLs carry their access token: show only where they point."""
    head, _, query = url.partition("?")
    if "@" in head:
        scheme, _, rest = head.partition("://")
        head = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return head + ("?…" if query else "")
