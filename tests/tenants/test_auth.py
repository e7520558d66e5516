"""Sign-in: API tokens, web sessions with CSRF, and the scope each role gets."""

from __future__ import annotations

import re

from tests.support.builders import PASSWORD


async def test_token_for_valid_credentials_then_wrong_password(client, tenant):
    ok = await client.post("/api/v1/auth/token", json=tenant.login("store_gm@A"))
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "bearer"
    bad = await client.post("/api/v1/auth/token", json={**tenant.login("store_gm@A"), "password": "nope"})
    assert bad.status_code == 401
    assert "密码" in bad.json()["detail"]


async def test_token_request_validation_has_field_messages(client):
    response = await client.post("/api/v1/auth/token", json={"username": ""})
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields & {"password", "username"}
    assert all(e["message_zh"] and e["message_en"] for e in response.json()["errors"])


async def test_api_without_token_is_401(client):
    response = await client.get("/api/v1/me")
    assert response.status_code == 401


async def test_web_login_requires_csrf_and_sets_session(app, tenant):
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        assert (await browser.get("/")).status_code in (302, 303, 307)
        page = await browser.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"group_code": tenant.code, "username": tenant.usernames["callback_agent@A"], "password": PASSWORD,
                "next": "/"}
        assert (await browser.post("/login", data=form)).status_code == 403  # no CSRF token
        logged_in = await browser.post("/login", data={**form, "_csrf_token": token})
        assert logged_in.status_code in (302, 303)
        home = await browser.get("/")
        assert home.status_code == 200


async def test_scopes_follow_roles(tenant, other_tenant):
    store_user = await tenant.scope("callback_agent@A")
    assert store_user.store_ids == {tenant.store_a}
    hq = await tenant.scope("hq_viewer")
    assert hq.store_ids == set(tenant.store_ids)
    division = await tenant.scope("brand_manager@div2")
    assert division.store_ids == {tenant.store_c}
    other = await other_tenant.scope("hq_viewer")
    assert not other.store_ids & set(tenant.store_ids)


async def test_me_reports_roles_and_stores(client, tenant):
    response = await client.get("/api/v1/me", headers=await tenant.headers("store_gm@B"))
    assert response.status_code == 200
    assert response.json()["roles"] == ["store_gm"]
    assert response.json()["store_ids"] == [tenant.store_b]
