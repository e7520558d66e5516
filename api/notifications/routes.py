"""Notifications API (通知): the caller's inbox, live stream, channel preferences; failed deliveries for admins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, get, post, put
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.auth import requires
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import BigIdParam, text
from crm import lists
from crm.lists import Page
from crm.notify import inbox
from crm.notify.live import listen
from tenants.scope import Scope

TAGS = ["notifications"]


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    store_id: int | None
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    link: str
    # What the message is about, for integrations: e.g. "complaint", 123 ("" and null when it names no object).
    object_type: str
    object_id: int | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(msgspec.Struct):
    unread: int


class Marked(msgspec.Struct):
    marked: int


class FailedDelivery(msgspec.Struct):
    id: int
    store_id: int | None
    recipient_id: int | None  # None: a message to a customer (SMS reminder, greeting)
    recipient_name: str
    channel: str
    kind: str
    title_zh: str
    title_en: str
    attempts: int
    last_error: str
    failed_at: datetime | None


class Preferences(msgspec.Struct, forbid_unknown_fields=True):
    """External channels besides in-app (always on): 邮件 e-mail, 企业微信 WeCom, 钉钉 DingTalk, 短信 SMS."""

    email: bool | None = None
    wecom: bool | None = None
    dingtalk: bool | None = None
    sms: bool | None = None


class ChannelSettingIn(msgspec.Struct, forbid_unknown_fields=True):
    url: text(500)
    secret: text(200) | None = None
    enabled: bool = True


class ChannelSettingOut(msgspec.Struct):
    channel: str
    url: str
    has_secret: bool
    enabled: bool


@get("/api/v1/notifications", tags=TAGS)
async def list_notifications(
    actor: Scope,
    unread_only: bool = False,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[NotificationOut]:
    """My in-app notifications, newest first, one page with the total.
    `sort`: `created` (default `-created`), `title`, `kind`, `read`; `-key` for descending."""
    want = inbox.INBOX_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await inbox.page_mine(actor=actor, filters=inbox.InboxFilter(unread_only=unread_only), want=want)
    return want.page_of([_out(r) for r in found.items], found.total)


@get("/api/v1/notifications/unread-count", tags=TAGS)
async def unread_count(actor: Scope) -> UnreadCount:
    """How many of my notifications are unread (for the bell)."""
    return UnreadCount(unread=await inbox.unread_count(actor=actor))


@post("/api/v1/notifications/{notification_id:int}/read", tags=TAGS, status_code=200)
async def mark_read(actor: Scope, notification_id: BigIdParam) -> NotificationOut:
    """Mark one of my notifications read."""
    return _out(await inbox.mark_read(actor=actor, notification_id=notification_id))


@post("/api/v1/notifications/read-all", tags=TAGS, status_code=200)
async def mark_all_read(actor: Scope) -> Marked:
    """Mark all my notifications read; returns how many were unread."""
    return Marked(marked=await inbox.mark_all_read(actor=actor))


@get("/api/v1/notifications/stream", tags=TAGS)
async def stream(actor: Scope) -> ServerSentEvent:
    """Server-Sent Events: `unread` (the count) on connect, then one `notification` event per new notification."""
    return ServerSentEvent(_events(actor))


@get("/events", include_in_schema=False)
async def web_stream(request: Request[Scope, Any, Any]) -> ServerSentEvent:
    """The same stream for the web UI (session cookie), as HTML parts for the layout's bell (htmx SSE extension):
    `unread` the badge, `notification` the badge, the new entry of the list and a toast (out-of-band swaps)."""
    part = request.app.template_engine.get_template("notifications/_live.html")

    async def render(actor: Scope, item: dict[str, Any] | None) -> str:
        unread = await inbox.unread_count(actor=actor)
        return part.render(request=request, unread=unread, item=item)

    return ServerSentEvent(_events(request.user, render))


@get("/api/v1/notifications/failed", tags=TAGS, guards=[requires(*inbox.DELIVERY_ADMINS)])
async def failed_deliveries(
    actor: Scope, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[FailedDelivery]:
    """Notifications that could not be delivered (after all retries, or refused for good), latest first.
    `sort`: `failed`, `title`, `recipient`, `channel`, `attempts`, `error`; `-key` for descending."""
    want = inbox.FAILED_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await inbox.failed_deliveries(actor=actor, want=want)
    return want.page_of([
        FailedDelivery(
            id=r["id"], store_id=r["store"], recipient_id=r["recipient"], recipient_name=r["recipient_name"],
            channel=r["channel"], kind=r["kind"], title_zh=r["title_zh"], title_en=r["title_en"],
            attempts=r["attempts"], last_error=r["last_error"], failed_at=r["failed_at"],
        )
        for r in found.items
    ], found.total)


@get("/api/v1/notifications/preferences", tags=TAGS)
async def get_preferences(actor: Scope) -> dict[str, bool]:
    """My channels besides in-app (always on): e-mail, WeCom, DingTalk, SMS."""
    return await inbox.preferences(actor=actor)


@put("/api/v1/notifications/preferences", tags=TAGS)
async def put_preferences(actor: Scope, data: Preferences) -> dict[str, bool]:
    """Change my channels; the ones left out keep their setting."""
    chosen = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    return await inbox.set_preferences(actor=actor, channels=chosen)


@get("/api/v1/notifications/channels", tags=TAGS, guards=[requires(*inbox.DELIVERY_ADMINS)])
async def list_channel_settings(actor: Scope) -> Page[ChannelSettingOut]:
    """The group's endpoints per external channel (secrets are never shown), the few channels on one page
    (`sort` is `channel`)."""
    return lists.whole([ChannelSettingOut(**s) for s in await inbox.channel_settings(actor=actor)], sort="channel")


@put("/api/v1/notifications/channels/{channel:str}", tags=TAGS, guards=[requires(*inbox.DELIVERY_ADMINS)])
async def put_channel_setting(actor: Scope, channel: str, data: ChannelSettingIn) -> ChannelSettingOut:
    """Set the group's endpoint for email (smtp://…), wecom, dingtalk or sms (webhook / gateway URL)."""
    setting = await inbox.set_channel_setting(
        actor=actor, channel=channel, url=data.url, secret=data.secret, enabled=data.enabled
    )
    return ChannelSettingOut(**setting)


ROUTES = [
    list_notifications, unread_count, mark_read, mark_all_read, stream, web_stream, failed_deliveries,
    get_preferences, put_preferences, list_channel_settings, put_channel_setting,
]


Render = Callable[[Scope, "dict[str, Any] | None"], Awaitable[str]]


async def _as_json(actor: Scope, item: dict[str, Any] | None) -> str:
    if item is None:
        return json.dumps({"unread": await inbox.unread_count(actor=actor)})
    return json.dumps(item, ensure_ascii=False)


async def _events(actor: Scope, render: Render = _as_json) -> AsyncIterator[ServerSentEventMessage]:
    """`unread` once subscribed, then one `notification` per new notification; `render` writes the data
    (JSON for the API, HTML parts for the web UI)."""
    subscribed = False
    async for item in listen(actor.user_id):
        if not subscribed:  # count only once subscribed, so nothing published in between is missed
            subscribed = True
            yield ServerSentEventMessage(event="unread", data=await render(actor, None))
        elif item is None:
            yield ServerSentEventMessage(comment="keepalive")
        else:
            yield ServerSentEventMessage(event="notification", data=await render(actor, item))


def _out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=row["id"], kind=row["kind"], store_id=row["store"], title_zh=row["title_zh"], title_en=row["title_en"],
        body_zh=row["body_zh"], body_en=row["body_en"], link=row["link"], object_type=row["object_type"],
        object_id=row["object_id"], created_at=row["created_at"],
        read_at=row["read_at"],
    )
