"""Notification pages over HTTP: the bell's list, opening one, read-all, the inbox page, settings, failed deliveries."""

from __future__ import annotations

import uuid

from crm import clock
from crm.notify.service import notify_users
from crm.notify.tables import Notification, NotificationPreference
from tests.support.web import csrf_of as csrf


async def _notify(tenant, who: str, title: str = "回访到期", link: str = "/callbacks") -> int:
    key = uuid.uuid4().hex
    await notify_users(group_id=tenant.group_id, user_ids=[tenant.users[who]], kind="callback.due",
                       title_zh=title, title_en="Callback due", link=link, idempotency_key=key,
                       store_id=tenant.store_a)
    return (await Notification.select(Notification.id).where(Notification.idempotency_key == key).first())["id"]


async def _read_at(notification_id: int):
    return (await Notification.select(Notification.read_at).where(Notification.id == notification_id).first())[
        "read_at"]


async def test_bell_menu_lists_unread_and_opening_one_marks_it_read(browser_session, tenant):
    first = await _notify(tenant, "callback_agent@A", "投诉已分派", link="/complaints")
    second = await _notify(tenant, "callback_agent@A", "回访到期")
    browser = await browser_session(tenant.usernames["callback_agent@A"])
    menu = await browser.get("/notifications/menu", params={"next": "/callbacks"})
    assert menu.status_code == 200 and "<html" not in menu.text
    assert 'data-unread="2"' in menu.text
    assert menu.text.index(f'href="/notifications/{second}"') < menu.text.index(f'href="/notifications/{first}"')
    assert menu.text.count('class="notif-item unread"') == 2 and "全部标为已读" in menu.text
    assert 'name="next" value="/callbacks"' in menu.text

    opened = await browser.get(f"/notifications/{first}")
    assert opened.status_code in (302, 303) and opened.headers["location"] == "/complaints"
    assert await _read_at(first) is not None and await _read_at(second) is None
    menu = await browser.get("/notifications/menu")
    assert 'data-unread="1"' in menu.text and menu.text.count('class="notif-item unread"') == 1

    done = await browser.post("/notifications/read-all", data={"_csrf_token": csrf(menu.text), "next": "/callbacks"})
    assert done.status_code in (302, 303) and done.headers["location"] == "/callbacks"
    assert await _read_at(second) is not None
    assert 'data-unread="0"' in (await browser.get("/notifications/menu")).text


async def test_opening_never_leaves_the_site(browser_session, tenant):
    outside = await _notify(tenant, "callback_agent@A", link="//evil.example/")
    browser = await browser_session(tenant.usernames["callback_agent@A"])
    opened = await browser.get(f"/notifications/{outside}")
    assert opened.headers["location"] == "/"
    nowhere = await _notify(tenant, "callback_agent@A", link="")
    assert (await browser.get(f"/notifications/{nowhere}")).headers["location"] == "/notifications"


async def test_inbox_page_pages_and_filters_unread(browser_session, tenant):
    ids = [await _notify(tenant, "store_gm@A", f"通知{i:02d}") for i in range(33)]
    browser = await browser_session(tenant.usernames["store_gm@A"])
    await browser.get(f"/notifications/{ids[-1]}")  # read the newest
    page = await browser.get("/notifications")
    assert page.status_code == 200 and "未读 32 条" in page.text and 'href="/notifications"' in page.text
    assert "通知32" in page.text and "通知03" in page.text and "通知02" not in page.text
    assert "共 33 条 · 第 1/2 页" in page.text and 'href="/notifications?page=2"' in page.text
    older = await browser.get("/notifications", params={"page": "2"})
    assert "通知02" in older.text and "通知00" in older.text and "通知03" not in older.text
    assert 'rel="next"' not in older.text
    oldest_first = await browser.get("/notifications", params={"sort": "created"})
    assert "通知00" in oldest_first.text and "通知30" not in oldest_first.text
    unread = await browser.get("/notifications", params={"unread": "true"})
    assert "通知31" in unread.text and "通知32" not in unread.text and "共 32 条" in unread.text
    assert (await browser.get("/notifications", params={"page": "abc"})).status_code == 400


async def test_notifications_of_others_are_404(browser_session, tenant, other_tenant):
    mine = await _notify(tenant, "callback_agent@A")
    for who in (tenant.usernames["callback_agent@B"], tenant.usernames["group_admin"],
                other_tenant.usernames["callback_agent@A"]):
        browser = await browser_session(who)
        assert (await browser.get(f"/notifications/{mine}")).status_code == 404, who
        assert f"/notifications/{mine}" not in (await browser.get("/notifications/menu")).text
        assert f"/notifications/{mine}" not in (await browser.get("/notifications")).text
        page = await browser.get("/notifications")
        await browser.post("/notifications/read-all", data={"_csrf_token": csrf(page.text)})
    assert await _read_at(mine) is None


async def test_channel_preferences_page(browser_session, tenant):
    who = "store_cr_manager@B"
    browser = await browser_session(tenant.usernames[who])
    page = await browser.get("/notification-settings")
    assert page.status_code == 200 and "通知设置" in page.text and "企业微信" in page.text
    refused = await browser.post("/notification-settings", data={"_csrf_token": csrf(page.text), "email": "1"})
    assert refused.status_code == 400 and "请先在个人资料中填写邮箱" in refused.text
    assert await NotificationPreference.count().where(NotificationPreference.user == tenant.users[who]) == 0
    saved = await browser.post("/notification-settings", data={"_csrf_token": csrf(page.text), "wecom": "1"})
    assert saved.status_code in (302, 303)
    page = await browser.get(saved.headers["location"])
    assert 'id="settings-saved"' in page.text and 'name="wecom" value="1" checked' in page.text
    row = await NotificationPreference.select().where(NotificationPreference.user == tenant.users[who]).first()
    assert row["wecom"] and not row["email"] and not row["sms"]


async def test_failed_deliveries_page_is_for_the_group_admin_of_that_group(browser_session, tenant, other_tenant):
    now = clock.now()
    await Notification.insert(Notification(
        group=tenant.group_id, store=tenant.store_a, recipient=tenant.users["store_gm@A"], channel="wecom",
        kind="complaint.major", title_zh="重大投诉预警", title_en="Major complaint", idempotency_key=uuid.uuid4().hex,
        status="failed", attempts=6, last_error="HTTP 503: busy", failed_at=now, created_at=now))
    admin = await browser_session(tenant.usernames["group_admin"])
    home = await admin.get("/")
    assert 'href="/notification-failures"' in home.text and 'href="/notifications"' in home.text
    page = await admin.get("/notification-failures")
    assert page.status_code == 200 and "重大投诉预警" in page.text and "HTTP 503: busy" in page.text
    assert "企业微信" in page.text
    gm = await browser_session(tenant.usernames["store_gm@A"])
    assert 'href="/notification-failures"' not in (await gm.get("/")).text
    assert (await gm.get("/notification-failures")).status_code == 403
    outsider = await browser_session(other_tenant.usernames["group_admin"])
    assert "重大投诉预警" not in (await outsider.get("/notification-failures")).text
