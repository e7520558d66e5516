"""In a real browser: the layout's bell listens to /events and shows a new notification at once."""

from __future__ import annotations

import asyncio
import uuid

from crm.notify.live import channel_name
from crm.notify.service import notify_users
from crm.queue import get_queue


async def test_bell_counts_and_lists_a_live_notification(page, sign_in, tenant):
    await sign_in(page, tenant.usernames["store_gm@A"], next_path="/customers")
    badge = page.locator("#notif-bell .badge")
    await page.wait_for_function("document.getElementById('notif-badge').dataset.unread === '0'")
    assert await badge.is_hidden()
    await _until_subscribed(tenant.users["store_gm@A"])
    await notify_users(
        group_id=tenant.group_id, user_ids=[tenant.users["store_gm@A"]], kind="complaint.major",
        title_zh="重大投诉预警:客户堵门", title_en="Major complaint: customer blocking the gate",
        link="/customers", idempotency_key=uuid.uuid4().hex, store_id=tenant.store_a,
    )
    await badge.wait_for(state="visible")
    assert await badge.inner_text() == "1"
    assert "重大投诉预警:客户堵门" in await page.locator("#toasts").inner_text()
    await page.click("#notif-bell")
    assert "重大投诉预警:客户堵门" in await page.locator(".notif-list").inner_text()


async def _until_subscribed(user_id: int) -> None:
    """The page's stream listens once the server subscribed to the user's channel (bounded wait)."""
    queue = await get_queue()
    for _ in range(500):
        [(_, listeners)] = await queue.pubsub_numsub(channel_name(user_id))
        if listeners:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the page's event stream never subscribed")


async def test_bell_lists_what_came_before_sign_in_and_opening_one_reads_it(page, sign_in, tenant):
    user = tenant.users["callback_agent@A"]
    for title, link in (("回访到期:张先生", "/callbacks"), ("投诉已分派到本店", "/complaints")):
        await notify_users(group_id=tenant.group_id, user_ids=[user], kind="callback.due", title_zh=title,
                           title_en=title, link=link, idempotency_key=uuid.uuid4().hex, store_id=tenant.store_a)
    await sign_in(page, tenant.usernames["callback_agent@A"], next_path="/customers")
    badge = page.locator("#notif-bell .badge")
    await page.wait_for_function("document.getElementById('notif-badge').dataset.unread === '2'")
    assert await badge.inner_text() == "2"

    await page.click("#notif-bell")
    unread = page.locator(".notif-list .notif-item.unread")
    await unread.first.wait_for()
    assert await unread.count() == 2
    assert "投诉已分派到本店" in await page.locator(".notif-list").inner_text()
    async with page.expect_navigation():
        await page.click(".notif-list a:has-text('投诉已分派到本店')")
    assert page.url.endswith("/complaints")
    await page.wait_for_function("document.getElementById('notif-badge').dataset.unread === '1'")
    assert await badge.inner_text() == "1"

    await page.click("#notif-bell")
    await page.locator(".notif-list .notif-item:not(.unread) a:has-text('投诉已分派到本店')").wait_for()
    async with page.expect_navigation():
        await page.click("#notif-read-all")
    await page.wait_for_function("document.getElementById('notif-badge').dataset.unread === '0'")
    assert await badge.is_hidden()
