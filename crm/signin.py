"""Sign-in with throttling: a password is only tried when neither the account nor the address is cooling down.

An account is named by the group code and the username (the platform admin's by the username alone).
Failures are counted per account and per address (in Redis, so every API process agrees). From the
`FREE_FAILURES`-th failure on, each further try waits longer (1 s, 2 s, 4 s … up to `MAX_DELAY`); at
`LOCK_AFTER` failures the account or address is locked for `LOCKOUT`. A success clears the account's count
and takes its own try off the address's (signing in to one's own account must not reset a guessing run).
Time comes from `crm.clock`, so tests travel instead of sleeping; Redis expiry only tidies up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import clock
from crm.queue import get_queue
from tenants.accounts import authenticate, record_sign_in
from tenants.errors import TooManyAttempts


@dataclass(frozen=True)
class Policy:
    free_failures: int
    lock_after: int
    max_delay: timedelta
    lockout: timedelta


ACCOUNT = Policy(free_failures=5, lock_after=10, max_delay=timedelta(seconds=60), lockout=timedelta(minutes=15))
# An address may be a whole dealership behind one NAT: more room before it slows down.
ADDRESS = Policy(free_failures=20, lock_after=50, max_delay=timedelta(seconds=60), lockout=timedelta(minutes=15))
FORGET_AFTER = timedelta(hours=24)  # a count with no failure for this long starts again


async def sign_in(username: str, password: str, address: str, *, group_code: str = "") -> int | None:
    """The user id when the password is right, None when wrong; TooManyAttempts while cooling down.

    GroupSuspended (after the right password) when the user's group is suspended.
    """
    account = f"{group_code.strip().lower()}/{username.strip().lower()}"
    keys = [(_key("account", account), ACCOUNT), (_key("address", address), ADDRESS)]
    now = clock.now()
    waits = [await _wait(key, policy, now) for key, policy in keys]
    longest = max(waits, key=lambda w: w[0])
    if longest[0] > 0:
        raise TooManyAttempts(retry_after=longest[0], locked=longest[1])
    # Counted as a failure before the (slow) password check, so that a burst of parallel tries is counted too.
    for key, policy in keys:
        await _record_failure(key, policy, now)
    user_id = await authenticate(username, password, group_code=group_code)
    if user_id is not None:
        await record_sign_in(user_id)
        queue = await get_queue()
        await queue.delete(keys[0][0])
        await queue.hincrby(keys[1][0], "failures", -1)
    return user_id


def _key(kind: str, who: str) -> str:
    return f"dealerdesk:signin:{kind}:{who}"


def delay_after(failures: int, policy: Policy) -> timedelta:
    """How long to wait after `failures` failures in a row: nothing, then doubling, then the lockout."""
    if failures >= policy.lock_after:
        return policy.lockout
    if failures < policy.free_failures:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - policy.free_failures)), policy.max_delay)


async def _state(key: str, now: datetime) -> tuple[int, datetime | None]:
    saved = await (await get_queue()).hgetall(key)
    if not saved:
        return 0, None
    last = datetime.fromisoformat(saved[b"last"].decode())
    if now - last > FORGET_AFTER:
        return 0, None
    return int(saved[b"failures"]), last


async def _wait(key: str, policy: Policy, now: datetime) -> tuple[int, bool]:
    """Seconds left before this account/address may try again, and whether it is a lockout."""
    failures, last = await _state(key, now)
    if last is None:
        return 0, False
    delay = delay_after(failures, policy)
    left = min(last + delay - now, delay).total_seconds()  # a clock set back never makes a wait longer
    return (math.ceil(left), failures >= policy.lock_after) if left > 0 else (0, False)


async def _record_failure(key: str, policy: Policy, now: datetime) -> None:
    _, last = await _state(key, now)
    queue = await get_queue()
    async with queue.pipeline(transaction=True) as pipe:
        if last is None:  # nothing yet, or forgotten: start again from one
            pipe.delete(key)
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, "last", now.isoformat())
        pipe.expire(key, int((FORGET_AFTER + policy.lockout).total_seconds()))
        await pipe.execute()
