"""Sign-in throttling per account and per address: growing delays, then a temporary lockout, 429 + Retry-After.

Real Redis holds the counts; the clock travels (tick=False) instead of sleeping. Each test signs in from
its own address so that the suite's other sign-ins do not count.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import httpx
import time_machine

from crm import clock
from crm.signin import ACCOUNT, ADDRESS, delay_after
from tests.support.web import csrf_of

TOKEN = "/api/v1/auth/token"
_addresses = (f"10.15.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def _client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(next(_addresses), 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def test_delays_grow_then_lock():
    assert [delay_after(n, ACCOUNT).total_seconds() for n in range(4, 11)] == [0, 1, 2, 4, 8, 16, 900]
    assert delay_after(ADDRESS.free_failures - 1, ADDRESS) == timedelta(0)


async def test_an_account_slows_down_then_locks_and_opens_again_after_the_lockout(app, tenant):
    right = tenant.login("store_gm@A")
    wrong = {**right, "password": "wrong-password"}
    with time_machine.travel(clock.now(), tick=False) as traveller:
        async with _client(app) as client:
            for _ in range(ACCOUNT.free_failures):
                assert (await client.post(TOKEN, json=wrong)).status_code == 401
            refused = await client.post(TOKEN, json=wrong)
            assert refused.status_code == 429
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["retry_after"] == 1 and "秒后再试" in refused.json()["detail_zh"]

            for expected_wait in (1, 2, 4, 8, 16):  # each failure doubles the wait before the next try
                traveller.shift(timedelta(seconds=expected_wait))
                assert (await client.post(TOKEN, json=wrong)).status_code == 401
            locked = await client.post(TOKEN, json=right)
            assert locked.status_code == 429, "locked: not even the right password is tried"
            assert locked.headers["Retry-After"] == str(int(ACCOUNT.lockout.total_seconds()))
            assert "锁定" in locked.json()["detail_zh"]

        async with _client(app) as elsewhere:  # the lock is on the account, from any address
            assert (await elsewhere.post(TOKEN, json=right)).status_code == 429
            traveller.shift(ACCOUNT.lockout - timedelta(seconds=1))
            assert (await elsewhere.post(TOKEN, json=right)).status_code == 429
            traveller.shift(timedelta(seconds=1))
            assert (await elsewhere.post(TOKEN, json=right)).status_code == 201
            # A success clears the account's count: the next wrong password is a plain 401 again.
            assert (await elsewhere.post(TOKEN, json=wrong)).status_code == 401
            assert (await elsewhere.post(TOKEN, json=right)).status_code == 201


async def test_one_address_guessing_many_accounts_is_throttled(app, tenant):
    with time_machine.travel(clock.now(), tick=False):
        async with _client(app) as client:
            for _ in range(ADDRESS.free_failures):
                guess = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "guess"}
                assert (await client.post(TOKEN, json=guess)).status_code == 401
            fresh = tenant.login("staff@A")
            refused = await client.post(TOKEN, json=fresh)
            assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        async with _client(app) as other_address:
            assert (await other_address.post(TOKEN, json=fresh)).status_code == 201


async def test_the_sign_in_page_answers_429_with_retry_after(app, tenant):
    username = tenant.usernames["callback_agent@A"]
    with time_machine.travel(clock.now(), tick=False):
        async with _client(app) as browser:
            for attempt in range(ACCOUNT.free_failures + 1):
                page = await browser.get("/login")
                form = {"group_code": tenant.code, "username": username, "password": "wrong", "next": "/",
                        "_csrf_token": csrf_of(page.text)}
                answer = await browser.post("/login", data=form)
            assert answer.status_code == 429
            assert answer.headers["Retry-After"] == "1"
            assert "秒后再试" in answer.text
