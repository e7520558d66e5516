"""In a real browser: a callback agent works three calls from the queue with the keyboard only."""

from __future__ import annotations

import os


from crm.callbacks.tables import Callback
from crm.complaints.tables import Complaint
from tests.support.callbacks import make_due

SHOTS = os.environ.get("CALLBACK_SCREENSHOTS")  # a directory to keep screenshots of the pages, when set


async def shot(page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


async def test_agent_works_three_calls_from_the_queue(page, sign_in, tenant):
    ids = [await make_due(tenant, name=name) for name in ("林黛玉", "贾宝玉", "薛宝钗")]
    await sign_in(page, tenant.usernames["callback_agent@A"], next_path="/callbacks")
    rows = page.locator("#cb-due tr[data-href], #cb-overdue tr[data-href]")
    await rows.first.wait_for()
    assert await rows.count() == 3
    await shot(page, "queue")

    # Call 1: N opens the most urgent call; 1 = reached, Y = satisfied, Ctrl+Enter saves and opens the next.
    await page.keyboard.press("n")
    await page.locator("#outcome-form").wait_for()
    first = int(await page.locator("#call-screen").get_attribute("data-callback"))
    assert "您好！" in await page.locator("#script").inner_text()
    await shot(page, "call")
    await page.keyboard.press("1")
    await page.keyboard.press("y")
    await page.locator("#comment").fill("车辆使用正常,很满意")
    await page.keyboard.press("Control+Enter")
    await page.locator("#saved-note").wait_for()

    # Call 2: nobody answers.
    second = int(await page.locator("#call-screen").get_attribute("data-callback"))
    assert second != first
    await page.keyboard.press("2")
    assert await page.locator("#reached-part").is_hidden()
    await page.keyboard.press("Control+Enter")
    await page.locator("#saved-note").wait_for()

    # Call 3: the customer is unhappy — a complaint is filed; no call is left, so the queue says so.
    third = int(await page.locator("#call-screen").get_attribute("data-callback"))
    assert third not in (first, second)
    await page.keyboard.press("1")
    await page.keyboard.press("u")
    await page.locator("#comment").fill("交车时没有讲解功能")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_url("**/callbacks?empty=1")
    assert "当前没有到期的回访电话" in await page.locator("#queue-empty").inner_text()
    assert await page.locator("#next-planned").count() == 1, "the agent is told when the next call falls due"
    await shot(page, "queue-empty")

    assert {first, second, third} == set(ids)
    rows = {r["id"]: r for r in await Callback.select().where(Callback.id.is_in(ids))}
    assert rows[first]["state"] == "done" and rows[first]["satisfaction"] == "satisfied"
    assert rows[second]["state"] == "scheduled" and rows[second]["attempts"] == 1
    assert rows[third]["state"] == "done" and rows[third]["complaint_id"] is not None
    complaint = await Complaint.select().where(Complaint.id == rows[third]["complaint_id"]).first()
    assert complaint["source_callback_id"] == third and complaint["content"] == "交车时没有讲解功能"

    await page.goto(f"/callbacks/{third}")
    assert "已生成投诉单" in await page.locator("#call-screen").inner_text()


async def test_ssi_call_asks_for_every_score_until_the_survey_is_declined(page, sign_in, tenant):
    from tests.support.callbacks import callbacks_of, delivered_customer, fire_callback_timers

    _, _, sale_id = await delivered_customer(tenant)
    followup = (await callbacks_of("sale", sale_id))["delivery_followup_3d"]["id"]
    await fire_callback_timers(followup)
    await sign_in(page, tenant.usernames["callback_agent@A"], next_path="/callbacks")
    await page.locator("#next-call").wait_for()
    await page.keyboard.press("n")
    await page.locator("#outcome-form").wait_for()
    await page.keyboard.press("1")
    await page.keyboard.press("y")
    scores = page.locator("#scores input")
    assert await scores.count() == 8
    assert await page.locator("#scores input:required").count() == 8
    await scores.first.fill("9")
    form_valid = "document.getElementById('outcome-form').checkValidity()"
    assert await page.evaluate(form_valid) is False  # the browser will not send it: seven scores missing
    await shot(page, "call-ssi")
    await page.locator("#survey-declined").check()
    assert await page.locator("#scores input:disabled").count() == 8
    assert await page.evaluate(form_valid) is True
    await page.keyboard.press("Control+Enter")
    await page.wait_for_url("**/callbacks?empty=1")
    row = await Callback.select(Callback.state, Callback.survey_declined).where(Callback.id == followup).first()
    assert row == {"state": "done", "survey_declined": True}
