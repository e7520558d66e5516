"""In a real browser: a store user signs in, finds a customer by phone as they type, opens them and sees their car."""

from __future__ import annotations

from tests.support.builders import customer_with_history


async def test_store_user_finds_customer_by_phone_and_sees_plate(page, sign_in, tenant):
    customer = await customer_with_history(tenant, "A", name="赵丽华")

    await sign_in(page, tenant.usernames["callback_agent@A"], next_path="/customers")
    assert page.url.endswith("/customers")
    search = page.locator("#customer-q")
    assert await search.evaluate("el => el === document.activeElement")  # focused on load

    await search.press_sequentially(customer.mobile, delay=20)
    row = page.locator("#customer-results tbody tr")
    await row.first.wait_for()
    assert await row.count() == 1
    assert "赵丽华" in await row.first.inner_text()

    await search.press("Enter")  # keyboard: Enter opens the (first) result
    await page.wait_for_url(f"**/customers/{customer.customer_id}")
    assert customer.plate in await page.locator("#vehicles").inner_text()
    assert "帕萨特" in await page.locator("#vehicles").inner_text()
    assert "张伟" in await page.locator("#visits").inner_text()


async def test_store_user_does_not_find_another_stores_customer(page, sign_in, tenant):
    customer = await customer_with_history(tenant, "B", name="钱多多")

    await sign_in(page, tenant.usernames["staff@A"], next_path="/customers")
    await page.locator("#customer-q").press_sequentially(customer.mobile, delay=20)
    await page.locator(".results[data-query='%s']" % customer.mobile).wait_for()
    assert await page.locator("#customer-results").count() == 0
    assert "没有找到匹配的客户" in await page.locator("#results").inner_text()

    response = await page.goto(f"/customers/{customer.customer_id}")
    assert response.status == 404
    assert "页面不存在" in await page.locator("main").inner_text()
