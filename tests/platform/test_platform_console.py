"""The platform console (平台管理): onboarding a group end to end through the API, suspension and reactivation,
size and activity as counts only, and the platform admin finding no group's customer or complaint data."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from litestar.routes import HTTPRoute

from crm import clock
from crm.db import transaction
from crm.notify.tables import Notification
from crm.timers import runner
from crm.timers.service import schedule_timer
from crm.timers.tables import Timer
from tenants.tables import AuditEntry, DealerGroup
from tests.support.accounts import STRONG, TOKEN, bearer, new_group_body, platform_admin, token_of
from tests.support.builders import complaint, customer_with_car
from tests.support.timer_handlers import effect_count
from tests.support.web import sign_in

GROUPS = "/api/v1/platform/groups"


async def test_a_new_group_is_onboarded_through_the_api(client):
    admin = await bearer(client, await platform_admin())
    body = new_group_body(admin_email="lin@example.com")
    created = await client.post(GROUPS, json=body, headers=admin)
    assert created.status_code == 201, created.text
    group_id, link = created.json()["group_id"], created.json()["activation_link"]
    assert "/activate/" in link and created.json()["emailed"] is True

    # The link is sent by e-mail through the notifications (delivered by the worker, with retries).
    mail = await Notification.select(Notification.link).where(
        Notification.group == group_id, Notification.channel == "email"  # the new group's own row
    ).first()
    assert mail["link"].endswith(token_of(link))

    # Before activation the account cannot sign in: it has no password of its own yet.
    login = {"group_code": body["code"], "username": "admin"}
    assert (await client.post(TOKEN, json={**login, "password": "anything-at-all"})).status_code == 401

    weak = await client.post("/api/v1/auth/activate", json={"token": token_of(link), "password": "admin12345"})
    assert weak.status_code == 400
    messages = {e["message_zh"] for e in weak.json()["errors"]}
    assert "密码不能包含用户名" in messages and any("常见" in m for m in messages)
    done = await client.post("/api/v1/auth/activate", json={"token": token_of(link), "password": STRONG})
    assert done.status_code == 200 and done.json() == {"group_code": body["code"], "username": "admin"}
    again = await client.post("/api/v1/auth/activate", json={"token": token_of(link), "password": STRONG + "x"})
    assert again.status_code == 404, "a link works once"

    group_admin = await bearer(client, {**login, "password": STRONG})
    me = (await client.get("/api/v1/me", headers=group_admin)).json()
    assert me["group_id"] == group_id and me["roles"] == ["group_admin"]

    # The group admin opens two stores and gives the first one a callback agent.
    stores = []
    for code, name in (("S01", "新集团一号店"), ("S02", "新集团二号店")):
        store = await client.post("/api/v1/stores", headers=group_admin, json={"code": code, "name": name})
        assert store.status_code == 201, store.text
        stores.append(store.json()["id"])
    person = await client.post("/api/v1/users", headers=group_admin, json={
        "username": "agent1", "display_name": "新坐席", "roles": ["callback_agent"], "store_id": stores[0]})
    assert person.status_code == 201, person.text
    temporary = person.json()["temporary_password"]

    # That user signs in, must choose a password first, then sees their store and only theirs.
    user_login = {"group_code": body["code"], "username": "agent1"}
    first = await bearer(client, {**user_login, "password": temporary})
    assert (await client.get(f"/api/v1/stores/{stores[0]}", headers=first)).status_code == 403
    changed = await client.post("/api/v1/account/password", headers=first,
                                json={"current_password": temporary, "new_password": STRONG})
    assert changed.status_code == 204, changed.text
    agent = await bearer(client, {**user_login, "password": STRONG})
    me = (await client.get("/api/v1/me", headers=agent)).json()
    assert me["group_id"] == group_id and me["store_ids"] == [stores[0]]
    assert (await client.get(f"/api/v1/stores/{stores[0]}", headers=agent)).status_code == 200
    assert (await client.get(f"/api/v1/stores/{stores[1]}", headers=agent)).status_code == 404
    assert (await client.get("/api/v1/callbacks/queue", headers=agent)).status_code == 200

    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.group == group_id).order_by(AuditEntry.id)]  # the new group's own log
    assert actions[:2] == ["group.create", "user.activate"]
    assert {"store.create", "user.create", "user.password_change"} <= set(actions)


async def test_each_group_names_its_own_people(client):
    admin = await bearer(client, await platform_admin())
    first, second = new_group_body(), new_group_body()
    for body in (first, second):  # both first admins are called "admin"
        created = await client.post(GROUPS, json=body, headers=admin)
        assert created.status_code == 201, created.text
        activated = await client.post("/api/v1/auth/activate",
                                      json={"token": token_of(created.json()["activation_link"]), "password": STRONG})
        assert activated.status_code == 200
        body["group_id"] = created.json()["group_id"]
    for body in (first, second):
        headers = await bearer(client, {"group_code": body["code"], "username": "admin", "password": STRONG})
        assert (await client.get("/api/v1/me", headers=headers)).json()["group_id"] == body["group_id"]


async def test_bad_group_input_gets_field_messages_in_chinese(client, tenant):
    admin = await bearer(client, await platform_admin())
    answer = await client.post(GROUPS, headers=admin, json=new_group_body(
        code=tenant.code, timezone="Mars/Olympus", admin_username="x", admin_email="not-an-address"))
    assert answer.status_code == 400
    problems = {e["field"]: e["message_zh"] for e in answer.json()["errors"]}
    assert problems == {"code": "该集团代码已被使用", "timezone": "时区无效，例如 Asia/Shanghai",
                        "admin_username": "用户名为 2–64 位字母、数字或 . _ - @", "admin_email": "邮箱格式不正确"}


async def test_the_console_shows_counts_only(client, tenant):
    car = await customer_with_car(tenant)
    await complaint(tenant, car, store="A")
    admin = await bearer(client, await platform_admin())
    await client.post(TOKEN, json=tenant.login("store_gm@A"))  # a sign-in of the group
    rows = {row["id"]: row for row in (await client.get(GROUPS, headers=admin)).json()["items"]}  # newest first
    row = rows[tenant.group_id]
    assert (row["stores"], row["users"], row["complaints_this_month"]) == (3, len(tenant.users), 1)
    assert row["last_sign_in_at"] is not None and row["active"] is True
    assert set(row) == {"id", "code", "name", "timezone", "active", "stores", "users", "last_sign_in_at",
                        "complaints_this_month"}, "no customer data leaves a group"


async def test_group_users_cannot_use_the_console(client, tenant, other_tenant):
    for who in ("group_admin", "hq_viewer", "store_gm@A"):
        headers = await tenant.headers(who)
        assert (await client.get(GROUPS, headers=headers)).status_code == 403
        assert (await client.post(GROUPS, headers=headers, json=new_group_body())).status_code == 403
        suspend = await client.post(f"{GROUPS}/{other_tenant.group_id}/suspend", headers=headers)
        assert suspend.status_code == 403
    assert (await DealerGroup.select(DealerGroup.active).where(DealerGroup.id == other_tenant.group_id).first())["active"]


@pytest.mark.usefixtures("effect_table")
async def test_a_suspended_group_cannot_sign_in_but_keeps_its_data_and_timers(app, client, tenant, browser_session):
    admin = await bearer(client, await platform_admin())
    token = await tenant.headers("store_gm@A")
    browser = await browser_session(tenant.usernames["store_gm@A"])
    car = await customer_with_car(tenant)
    async with transaction():
        timer_id = await schedule_timer(kind="test.effect", due_at=clock.now() + timedelta(hours=1),
                                        group_id=tenant.group_id, store_id=tenant.store_a, subject_type="test",
                                        subject_id=1)

    suspended = await client.post(f"{GROUPS}/{tenant.group_id}/suspend", headers=admin)
    assert suspended.status_code == 200 and suspended.json() == {"group_id": tenant.group_id, "active": False}

    assert (await client.get("/api/v1/me", headers=token)).status_code == 401, "its live tokens stop working"
    assert (await browser.get("/")).status_code in (302, 303), "and its live sessions"
    refused = await client.post(TOKEN, json=tenant.login("store_gm@A"))
    assert refused.status_code == 403 and "已停用" in refused.json()["detail_zh"]
    wrong = await client.post(TOKEN, json={**tenant.login("store_gm@A"), "password": "wrong-password"})
    assert wrong.status_code == 401, "a wrong password learns nothing about the group"
    page = await sign_in(await browser_session(), tenant.usernames["group_admin"])
    assert page.status_code == 403 and "该集团账号已停用" in page.text

    with time_machine.travel(clock.now() + timedelta(hours=2), tick=False):
        await runner.sweep(groups=[tenant.group_id])
    assert (await Timer.select(Timer.state).where(Timer.id == timer_id).first())["state"] == "fired"
    assert await effect_count(timer_id) == 1, "timers go on firing while the group is suspended"

    assert (await client.post(f"{GROUPS}/{tenant.group_id}/reactivate", headers=admin)).status_code == 200
    back = await bearer(client, tenant.login("store_gm@A"))
    customer = await client.get(f"/api/v1/customers/{car.customer_id}", headers=back)
    assert customer.status_code == 200, "its data is intact"
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.group == tenant.group_id).order_by(AuditEntry.id)]  # the test's own group
    assert actions == ["group.suspend", "group.reactivate"]


async def test_the_platform_admin_finds_no_customer_or_complaint_endpoint(app, client, tenant, browser_session):
    car = await customer_with_car(tenant)
    complaint_id = await complaint(tenant, car, store="A")
    login = await platform_admin()
    api = await bearer(client, login)
    web = await browser_session(login["username"])
    ids = {"customer_id": car.customer_id, "vehicle_id": car.vehicle_id, "complaint_id": complaint_id}
    calls = [
        (method, path)
        for route in app.routes if isinstance(route, HTTPRoute)
        and route.path.startswith(("/api/v1/customers", "/api/v1/complaints", "/customers", "/complaints",
                                   "/complaint-intake"))
        for method in sorted(route.methods - {"HEAD", "OPTIONS"})
        for path in [_filled(route.path, ids)]
        if method == "GET" or path.startswith("/api/")  # the pages' forms need a CSRF token; their GETs are enough
    ]
    assert len(calls) > 20
    wrong = []
    for method, path in calls:
        caller = client if path.startswith("/api/") else web
        response = await caller.request(method, path, headers=api if caller is client else None,
                                        json={} if method != "GET" else None)
        if response.status_code != 404:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []


def _filled(path: str, ids: dict[str, int]) -> str:
    import re

    return re.sub(r"\{(\w+):\w+\}", lambda m: str(ids.get(m.group(1), 1)), path)
