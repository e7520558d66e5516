"""Live in-app notifications: Redis pub/sub per user, read by the SSE endpoints.

A missed message costs nothing: the unread list in the database is the truth,
and the stream only tells an open page to show it now.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from crm.notify.tables import Notification
from crm.queue import get_queue
from tenants.scope import Scope


def channel_name(user_id: int) -> str:
    return f"dealerdesk:notify:user:{user_id}"


async def publish(group_id: int, user_id: int, notification_id: int) -> None:
    row = await Scope.system(group_id).select(
        Notification,
        Notification.id, Notification.kind, Notification.title_zh, Notification.title_en, Notification.link,
        Notification.created_at,
    ).where(Notification.id == notification_id).first()
    if row is None:
        return
    row["created_at"] = row["created_at"].isoformat()
    queue = await get_queue()
    await queue.publish(channel_name(user_id), json.dumps(row, ensure_ascii=False))


async def listen(user_id: int, *, keepalive: float = 15.0) -> AsyncIterator[dict[str, Any] | None]:
    """Yield each notification published for the user; None every `keepalive` seconds of silence.

    The first None comes as soon as the subscription stands, so a caller can read
    current state (e.g. the unread count) then without missing what follows.
    """
    queue = await get_queue()
    pubsub = queue.pubsub()
    await pubsub.subscribe(channel_name(user_id))
    try:
        yield None
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=keepalive)
            if message is None:
                yield None
                continue
            yield json.loads(message["data"])
    finally:
        await pubsub.unsubscribe()
        await asyncio.shield(pubsub.aclose())
