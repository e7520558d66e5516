"""Sessions live in Redis: logout ends them at once (a copied cookie stops working); tokens can be revoked."""

from __future__ import annotations

import httpx

from crm.sessions import end_all_sessions
from tests.support.web import csrf_of


def _copy(client: httpx.AsyncClient, app) -> httpx.AsyncClient:
    """Another browser holding a copy of the cookies."""
    copy = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    copy.cookies = httpx.Cookies(client.cookies)
    return copy


async def test_logout_ends_the_session_for_a_copied_cookie_too(app, browser_session, tenant):
    browser = await browser_session(tenant.usernames["store_gm@A"])
    async with _copy(browser, app) as thief:
        assert (await thief.get("/")).status_code == 200
        home = await browser.get("/")
        out = await browser.post("/logout", data={"_csrf_token": csrf_of(home.text)})
        assert out.status_code == 303
        assert (await browser.get("/")).status_code in (302, 303)
        assert (await thief.get("/")).status_code in (302, 303), "the copied cookie no longer signs in"


async def test_every_session_of_a_user_can_be_ended(app, browser_session, tenant):
    first = await browser_session(tenant.usernames["staff@A"])
    second = await browser_session(tenant.usernames["staff@A"])
    assert (await first.get("/")).status_code == 200 and (await second.get("/")).status_code == 200
    assert await end_all_sessions(tenant.users["staff@A"]) == 2
    assert (await first.get("/")).status_code in (302, 303)
    assert (await second.get("/")).status_code in (302, 303)


async def test_a_revoked_token_stops_at_once(client, tenant):
    headers = await tenant.headers("call_center_agent")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/revoke", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await client.post("/api/v1/auth/revoke")).status_code == 401
