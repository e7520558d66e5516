"""Passwords and sign-in: the policy, changing one's own password, temporary passwords and activation links
forcing a change, usernames unique within a group, group code + username (or e-mail) sign-in."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine

from crm import clock
from tenants import accounts, passwords
from tenants.errors import InvalidInput, NotFound
from tenants.roles import Role
from tenants.tables import ApiToken, AuditEntry, User
from tests.support.accounts import STRONG, TOKEN, bearer, token_of
from tests.support.builders import PASSWORD
from tests.support.web import csrf_of, sign_in


def test_the_policy_names_every_rule_broken_in_chinese_and_english():
    assert [zh for zh, _ in passwords.problems_of("wang1", username="wang")] == [
        "密码至少需要 10 个字符", "密码不能包含用户名"]
    assert [zh for zh, _ in passwords.problems_of("Password123", username="li")] == [
        "密码过于常见，容易被猜中，请换一个"]
    assert passwords.problems_of(STRONG, username="li") == []
    for _ in range(20):
        assert passwords.problems_of(passwords.random_password(), username="li") == []


async def test_changing_ones_password_ends_every_session_and_token(client, tenant, browser_session):
    who = "store_gm@A"
    token = await tenant.headers(who)
    other_browser = await browser_session(tenant.usernames[who])
    wrong = await client.post("/api/v1/account/password", headers=token,
                              json={"current_password": "not-it", "new_password": STRONG})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "current_password"
    weak = await client.post("/api/v1/account/password", headers=token,
                             json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 400 and weak.json()["errors"][0]["message_zh"] == "密码至少需要 10 个字符"

    changed = await client.post("/api/v1/account/password", headers=token,
                                json={"current_password": PASSWORD, "new_password": STRONG})
    assert changed.status_code == 204
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401, "its API tokens are revoked"
    assert (await other_browser.get("/")).status_code in (302, 303), "its other sessions end"
    assert (await client.post(TOKEN, json=tenant.login(who))).status_code == 401, "the old password is gone"
    await bearer(client, tenant.login(who, STRONG))
    entry = await AuditEntry.select(AuditEntry.action, AuditEntry.actor).where(
        AuditEntry.group == tenant.group_id).first()  # the test's own group
    assert entry == {"action": "user.password_change", "actor": tenant.users[who]}


async def test_the_password_page_shows_policy_errors_in_chinese_and_keeps_this_browser(tenant, browser_session):
    who = "callback_agent@A"
    browser = await browser_session(tenant.usernames[who])
    elsewhere = await browser_session(tenant.usernames[who])
    page = await browser.get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.text
    form = {"current_password": PASSWORD, "new_password": tenant.usernames[who] + "X", "_csrf_token": csrf_of(page.text)}
    refused = await browser.post("/account/password", data={**form, "repeat_password": form["new_password"]})
    assert refused.status_code == 400 and "密码不能包含用户名" in refused.text
    saved = await browser.post("/account/password", data={**form, "new_password": STRONG, "repeat_password": STRONG})
    assert saved.status_code == 303
    assert (await browser.get("/")).status_code == 200, "this browser stays signed in"
    assert (await elsewhere.get("/")).status_code in (302, 303), "the other one is signed out"


async def test_a_temporary_password_forces_a_change_before_anything_else(client, tenant, other_tenant, browser_session):
    who = "staff@A"
    old_token = await tenant.headers(who)
    admin = await tenant.scope("group_admin")
    with pytest.raises(NotFound):  # another group's user does not exist for this admin
        await accounts.set_temporary_password(await other_tenant.scope("group_admin"), tenant.users[who])
    temporary = await accounts.set_temporary_password(admin, tenant.users[who])
    assert passwords.problems_of(temporary, username=tenant.usernames[who]) == []
    assert (await client.get("/api/v1/me", headers=old_token)).status_code == 401
    assert not await ApiToken.exists().where(ApiToken.user == tenant.users[who])

    headers = await bearer(client, tenant.login(who, temporary))
    refused = await client.get("/api/v1/customers", headers=headers)
    assert refused.status_code == 403 and refused.json()["password_change_required"] is True
    assert refused.json()["detail_zh"].startswith("请先修改密码")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    browser = await browser_session()
    assert (await sign_in(browser, tenant.usernames[who], temporary)).status_code == 303
    for path in ("/", "/customers", "/notifications"):
        answer = await browser.get(path)
        assert (answer.status_code, answer.headers.get("location")) == (302, "/account/password"), path
    page = await browser.get("/account/password")
    assert "首次登录或使用临时密码登录后，请先设置新密码" in page.text
    await browser.post("/account/password", data={"current_password": temporary, "new_password": STRONG,
                                                  "repeat_password": STRONG, "_csrf_token": csrf_of(page.text)})
    assert (await browser.get("/")).status_code == 200
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.group == tenant.group_id).order_by(AuditEntry.id)]  # the test's own group
    assert actions == ["user.temporary_password", "user.password_change"]


async def test_an_activation_link_works_once_and_expires(client, tenant):
    user_id = await accounts.create_user(username=f"new_{uuid.uuid4().hex[:6]}", password=PASSWORD,
                                         display_name="新员工", roles=[Role.STAFF], store_id=tenant.store_a)
    link = await accounts.issue_activation(user_id)
    page = await client.get(f"/activate/{token_of(link)}")
    assert page.status_code == 200 and tenant.code in page.text
    with time_machine.travel(clock.now() + accounts.ACTIVATION_TTL + timedelta(minutes=1), tick=False):
        assert (await client.get(f"/activate/{token_of(link)}")).status_code == 404
        with pytest.raises(NotFound):
            await accounts.activate(token_of(link), STRONG)
    newer = await accounts.issue_activation(user_id)
    assert await accounts.activation_of(token_of(link)) is None, "a new link replaces the old one"
    assert (await accounts.activate(token_of(newer), STRONG))["user_id"] == user_id
    assert (await User.select(User.must_change_password).where(User.id == user_id).first())["must_change_password"] is False
    with pytest.raises(NotFound):
        await accounts.activate(token_of(newer), STRONG)


async def test_usernames_are_unique_within_a_group_and_sign_in_needs_the_group_code(client, tenant, other_tenant):
    name = f"wang_{uuid.uuid4().hex[:6]}"
    for group in (tenant, other_tenant):
        await accounts.create_user(username=name, password=PASSWORD, display_name="王", roles=[Role.HQ_VIEWER],
                                   group_id=group.group_id)
    with pytest.raises(InvalidInput):
        await accounts.create_user(username=name, password=PASSWORD, display_name="王二", roles=[Role.HQ_VIEWER],
                                   group_id=tenant.group_id)
    for group in (tenant, other_tenant):
        headers = await bearer(client, {"group_code": group.code, "username": name, "password": PASSWORD})
        assert (await client.get("/api/v1/me", headers=headers)).json()["group_id"] == group.group_id
    no_code = await client.post(TOKEN, json={"username": name, "password": PASSWORD})
    assert no_code.status_code == 401, "only the platform admin signs in without a group code"


async def test_sign_in_by_email_when_it_names_one_user(client, tenant):
    email = f"zhao.{uuid.uuid4().hex[:6]}@example.com"
    user_id = await accounts.create_user(username=f"zhao_{uuid.uuid4().hex[:6]}", password=PASSWORD,
                                         display_name="赵", roles=[Role.LEGAL], group_id=tenant.group_id, email=email)
    headers = await bearer(client, {"username": email, "password": PASSWORD})
    assert (await client.get("/api/v1/me", headers=headers)).json()["user_id"] == user_id


async def test_the_login_form_remembers_the_group_code(tenant, browser_session):
    browser = await browser_session(tenant.usernames["legal"])
    await browser.post("/logout", headers={"x-csrftoken": browser.cookies.get("csrftoken", "")})
    form = await browser.get("/login")
    assert f'name="group_code" value="{tenant.code}"' in form.text
    assert "集团代码" in form.text


async def test_throttling_counts_per_group_and_username(app, tenant, other_tenant):
    import httpx

    from crm.signin import ACCOUNT

    name = f"li_{uuid.uuid4().hex[:6]}"
    for group in (tenant, other_tenant):
        await accounts.create_user(username=name, password=PASSWORD, display_name="李", roles=[Role.LEGAL],
                                   group_id=group.group_id)
    first = {"group_code": tenant.code, "username": name}
    second = {"group_code": other_tenant.code, "username": name, "password": PASSWORD}
    with time_machine.travel(clock.now(), tick=False):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.14.0.1", 40000)),
                                     base_url="http://testserver") as client:
            for _ in range(ACCOUNT.free_failures):
                assert (await client.post(TOKEN, json={**first, "password": "wrong-one"})).status_code == 401
            assert (await client.post(TOKEN, json={**first, "password": PASSWORD})).status_code == 429
            assert (await client.post(TOKEN, json=second)).status_code == 200, "another group's namesake is not slowed"
