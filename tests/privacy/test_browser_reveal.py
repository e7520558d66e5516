"""In a real browser: a store GM whose hourly allowance of reveals is used up presses "show" and reads why, in place
of the masked mobile (the answer is a 429, which htmx swaps in only through the form's `data-swap-refused`)."""

from __future__ import annotations

from crm.privacy import limits
from tests.support.builders import customer_with_car


async def test_the_refusal_of_a_reveal_is_said_in_place(page, sign_in, tenant):
    car = await customer_with_car(tenant, "A", name="钱芳")
    await limits.spend(await tenant.scope("store_gm@A"), "reveal", limits.LIMITS["reveal"])

    await sign_in(page, tenant.usernames["store_gm@A"], next_path=f"/customers/{car.customer_id}")
    mobile = page.locator('.pii[data-pii="mobile"]').first
    await mobile.locator('input[name="reason"]').fill("回电核实")
    async with page.expect_response(lambda r: r.url.endswith(f"/customers/{car.customer_id}/reveal")) as answer:
        await mobile.locator('button[type="submit"]').click()
    assert (await answer.value).status == 429

    refusal = page.locator('.pii[data-pii="mobile"] [role="alert"]')
    await refusal.wait_for()
    assert "查看完整个人信息过于频繁" in await refusal.inner_text()
    assert car.mobile not in await page.content()
    assert await page.locator("#toasts .toast").count() == 0
