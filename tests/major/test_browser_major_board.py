"""In a real browser: the HQ major-complaint board counts down to the 24-hour deadline and updates
live (SSE) when a complaint is marked major or its report is filed; a recipient acknowledges."""

from __future__ import annotations

import asyncio

from crm.major import board_events, service
from crm.major.rules import MajorReason
from crm.queue import get_queue
from tests.support.builders import customer_with_car, major_complaint
from tests.support.major import complaint_for, complete_report


async def _mark(tenant, store: str = "A") -> int:
    complaint_id = await complaint_for(tenant, await customer_with_car(tenant, store), store=store)
    return await major_complaint(tenant, complaint_id, MajorReason.NEGATIVE_MEDIA)


async def test_board_counts_down_and_updates_live(page, sign_in, tenant):
    first = await _mark(tenant)
    await page.clock.install()  # the page's timers run on a clock the test can move
    await sign_in(page, tenant.usernames["hq_viewer"], next_path="/major")
    row = page.locator(f'tr[data-major-id="{first}"]')
    countdown = row.locator(".countdown")
    assert (await countdown.inner_text()).startswith("剩余 ")  # written by the server: 24 hours to go
    await page.clock.fast_forward("02:00")  # two minutes later the page counts down below a day
    await page.wait_for_function(
        "el => el.textContent.startsWith('剩余 23小时5')", arg=await countdown.element_handle()
    )
    assert "媒体负面报道" in await row.inner_text()
    assert await row.locator(".level").inner_text() == "0/1"

    await _until_subscribed(tenant.group_id)
    second = await _mark(tenant, "B")
    await page.locator(f'tr[data-major-id="{second}"]').wait_for()
    await page.wait_for_function("document.getElementById('major-count').textContent === '2'")

    await service.file_report(actor=await tenant.scope("store_gm@A"), major_id=first, form=complete_report())
    await page.wait_for_function(  # the rows are replaced on each update: look them up again
        "id => document.querySelector(`tr[data-major-id='${id}'] .report-status`).textContent.includes('已提交')",
        arg=first,
    )
    assert await page.locator(f'tr[data-major-id="{first}"] .countdown').count() == 0

    async with page.expect_navigation():
        await page.locator(f'tr[data-major-id="{second}"] td').nth(1).click()  # the row opens the major report
    assert page.url.endswith(f"/major/{second}")
    assert "重大投诉事件处理报告" in await page.locator("#major-report").inner_text()


async def test_a_recipient_acknowledges_the_alert(page, sign_in, tenant):
    major_id = await _mark(tenant)
    await sign_in(page, tenant.usernames["legal"], next_path=f"/major/{major_id}")
    alerts = page.locator("#major-alerts")
    assert "即时预警" in await alerts.inner_text()
    async with page.expect_navigation():
        await alerts.get_by_role("button", name="确认收到").click()
    assert await alerts.get_by_role("button", name="确认收到").count() == 0
    assert "已确认" in await alerts.inner_text()


async def _until_subscribed(group_id: int) -> None:
    """The board listens once the server subscribed to the group's channel (bounded wait)."""
    queue = await get_queue()
    for _ in range(500):
        [(_, listeners)] = await queue.pubsub_numsub(board_events.channel(group_id))
        if listeners:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the board's event stream never subscribed")
