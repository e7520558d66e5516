"""In a real browser at phone width (360×740): the home page, a complaint, the major board and the callback
call screen fit the screen (no sideways scroll), the menu button opens and closes the navigation, and the
home page's work list shows one card per row."""

from __future__ import annotations

from crm.major.rules import MajorReason
from tests.support.builders import complaint, customer_with_car, major_complaint
from tests.support.callbacks import make_due

PHONE = {"width": 360, "height": 740}


async def _fits(page) -> None:
    """Nothing wider than the screen (the `page` fixture bypasses the CSP, so a function expression may run)."""
    scroll_width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"{page.url} scrolls sideways: {scroll_width} px"


async def _menu_opens_and_closes(page) -> None:
    button, navigation = page.locator("#menu-toggle"), page.locator("#sidebar nav")
    assert await button.is_visible() and not await navigation.is_visible()
    await button.click()
    await navigation.wait_for(state="visible")
    assert await button.get_attribute("aria-expanded") == "true"
    await page.keyboard.press("Escape")
    await navigation.wait_for(state="hidden")
    assert await button.get_attribute("aria-expanded") == "false"


async def test_home_and_complaint_page_as_store_manager(page, sign_in, tenant):
    cid = await complaint(tenant, await customer_with_car(tenant, "A", name="周小芳"), store="A")
    await page.set_viewport_size(PHONE)
    await sign_in(page, tenant.usernames["store_cr_manager@A"])
    await _fits(page)
    await _menu_opens_and_closes(page)

    card = page.locator("#my-work tr[data-kind='complaint']").first
    cell = card.locator("td").first
    assert await cell.get_attribute("data-label") == "事项"  # the cell says what its column is
    assert not await page.locator("#my-work thead").first.is_visible()  # one card per row, no header row
    box = await card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    await page.locator("#menu-toggle").click()
    async with page.expect_navigation():
        await page.locator("#sidebar a[href='/complaints']").click()  # following a link closes the menu
    await _fits(page)

    await page.goto(f"/complaints/{cid}")
    await _fits(page)
    await _menu_opens_and_closes(page)


async def test_major_board_as_hq(page, sign_in, tenant):
    cid = await complaint(tenant, await customer_with_car(tenant, "A"), store="A")
    await major_complaint(tenant, cid, MajorReason.NEGATIVE_MEDIA)
    await page.set_viewport_size(PHONE)
    await sign_in(page, tenant.usernames["hq_viewer"], next_path="/major")
    await page.locator("tr[data-major-id]").first.wait_for()
    await _fits(page)
    await _menu_opens_and_closes(page)
    await page.goto("/")
    await _fits(page)
    assert await page.locator("#team-figures").is_visible()


async def test_callback_call_screen_as_agent(page, sign_in, tenant):
    callback_id = await make_due(tenant, name="林黛玉")
    await page.set_viewport_size(PHONE)
    await sign_in(page, tenant.usernames["callback_agent@A"], next_path=f"/callbacks/{callback_id}")
    await page.locator("#call-screen").wait_for()
    await _fits(page)
    await _menu_opens_and_closes(page)
    await page.goto("/callbacks")
    await _fits(page)
