"""Rate limits on reading personal data in bulk: per user, per clock hour, counted in Redis.

A reveal counts one; a list or search that returns records with personal data in clear counts one per
record. Over the limit the read is refused (429 with Retry-After until the next hour) before anything is
returned or logged. Hours come from `crm.clock`, so tests travel instead of waiting.
"""

from __future__ import annotations

from datetime import timedelta

from crm import clock
from crm.queue import get_queue
from tenants.errors import RateLimited
from tenants.scope import Scope

# Per user and hour.
LIMITS = {"reveal": 30, "bulk_read": 2000}
_MESSAGES = {
    "reveal": ("查看完整个人信息过于频繁", "Too many personal-data reveals"),
    "bulk_read": ("批量读取客户个人信息过于频繁", "Too many customer records with personal data read"),
}


async def spend(actor: Scope, bucket: str, amount: int = 1) -> None:
    """Count `amount` against the actor's hourly allowance for `bucket`; RateLimited when it would exceed it."""
    if amount <= 0:
        return
    now = clock.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    key = f"dealerdesk:pii:{bucket}:{actor.user_id}:{hour:%Y%m%d%H}"
    queue = await get_queue()
    async with queue.pipeline(transaction=True) as pipe:
        pipe.incrby(key, amount)
        pipe.expire(key, 2 * 3600)
        used, _ = await pipe.execute()
    if used > LIMITS[bucket]:
        await queue.decrby(key, amount)  # refused reads do not use up the allowance
        retry_after = max(1, int((hour + timedelta(hours=1) - now).total_seconds()))
        zh, en = _MESSAGES[bucket]
        raise RateLimited(retry_after, f"{zh}，请 {retry_after} 秒后再试", f"{en}; try again in {retry_after} s")
