"""Live updates of the HQ major-complaint board: a Redis pub/sub channel per group.

A change publishes `{major_id, store_id}` after its transaction commits; the SSE
endpoint relays it to each viewer who may see that store, and the page reloads
the row through the scoped board query. The message carries no complaint data.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from crm.db import after_commit
from crm.queue import get_queue


def channel(group_id: int) -> str:
    return f"dealerdesk:major-board:{group_id}"


async def changed(*, group_id: int, store_id: int, major_id: int) -> None:
    """Announce a change of one major complaint once the current transaction commits."""
    message = json.dumps({"major_id": major_id, "store_id": store_id})

    async def publish() -> None:
        queue = await get_queue()
        await queue.publish(channel(group_id), message)

    await after_commit(publish)


async def listen(
    *, group_id: int, store_ids: frozenset[int], idle_seconds: float = 15.0
) -> AsyncIterator[dict | None]:
    """Changes of the group's major complaints in `store_ids`, as they happen; None after
    `idle_seconds` without one (so the stream can send a keep-alive)."""
    queue = await get_queue()
    pubsub = queue.pubsub()
    await pubsub.subscribe(channel(group_id))
    try:
        quiet_until = time.monotonic() + idle_seconds
        while True:
            # None also comes back for the subscription's own confirmation: only silence counts as idle.
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=max(quiet_until - time.monotonic(), 0.01)
            )
            if message is None:
                if time.monotonic() >= quiet_until:
                    quiet_until = time.monotonic() + idle_seconds
                    yield None
                continue
            quiet_until = time.monotonic() + idle_seconds
            event = json.loads(message["data"])
            if event.get("store_id") in store_ids:
                yield event
    finally:
        await pubsub.unsubscribe()
        await asyncio.shield(pubsub.aclose())
