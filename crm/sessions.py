"""Web sessions kept server-side in Redis: the cookie carries only a random id, so signing out ends it at once.

A copied cookie is worth nothing after logout (or after `end_all_sessions`, for a disabled user or a new
password): the id no longer names a session. Each sign-in gets a new id, so an id planted before it is useless.
"""

from __future__ import annotations

import secrets

from crm.queue import get_queue
from crm.settings import get_settings

_PREFIX = "dealerdesk:session:"


def _key(session_id: str) -> str:
    return _PREFIX + session_id


def _user_key(user_id: int) -> str:
    return f"{_PREFIX}user:{user_id}"


async def open_session(user_id: int) -> str:
    """A new session for the user; its id goes into the (signed) cookie."""
    session_id = secrets.token_urlsafe(32)
    ttl = get_settings().token_ttl_hours * 3600
    queue = await get_queue()
    async with queue.pipeline(transaction=True) as pipe:
        pipe.set(_key(session_id), user_id, ex=ttl)
        pipe.sadd(_user_key(user_id), session_id)
        pipe.expire(_user_key(user_id), ttl)
        await pipe.execute()
    return session_id


async def session_user(session_id: str | None) -> int | None:
    """The signed-in user of a live session, None once it ended or expired."""
    if not session_id:
        return None
    user_id = await (await get_queue()).get(_key(session_id))
    return int(user_id) if user_id else None


async def end_session(session_id: str | None) -> None:
    if not session_id:
        return
    queue = await get_queue()
    user_id = await queue.getdel(_key(session_id))
    if user_id:
        await queue.srem(_user_key(int(user_id)), session_id)


async def end_all_sessions(user_id: int) -> int:
    """End every session of a user (disabled, or the password changed); how many there were."""
    queue = await get_queue()
    ids = [i.decode() for i in await queue.smembers(_user_key(user_id))]
    if ids:
        await queue.delete(*[_key(i) for i in ids])
    await queue.delete(_user_key(user_id))
    return len(ids)
