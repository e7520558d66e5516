"""In a real browser: a group admin opens a store and gives it a user; the user sees only that store, and is
signed out on their next click the moment the admin disables them."""

from __future__ import annotations

from tests.support.browser import sign_in_page


async def test_admin_onboards_a_store_and_a_user_then_disables_them(page, sign_in, tenant, browser, live_server):
    await sign_in(page, tenant.usernames["group_admin"], next_path="/organisation")
    await page.locator("#org-stores details summary").click()
    form = page.locator("#store-new")
    await form.locator("input[name=code]").fill(f"WEB{tenant.group_id}")
    await form.locator("input[name=name]").fill("网页新开4S店")
    await form.locator("input[name=city]").fill("苏州")
    await form.locator("select[name=brand_division_id]").select_option(str(tenant.division_ids[0]))
    await form.locator("input[name=contact_start]").fill("09:30")
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()
    store_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert "网页新开4S店" in await page.locator("h1").inner_text()

    await page.goto("/people")
    create = page.locator("#person-new form")
    await create.locator("input[name=username]").fill(f"web_agent_{tenant.group_id}")
    await create.locator("input[name=display_name]").fill("周网页")
    await create.locator("input[name=roles][value=callback_agent]").check()
    await create.locator("select[name=store_id]").select_option(str(store_id))
    async with page.expect_navigation():
        await create.locator("button[type=submit]").click()
    password = (await page.locator("#the-password").inner_text()).strip()
    user_id = await page.locator("#person-card").get_attribute("data-user")

    # the new user, in a browser of their own
    context = await browser.new_context(base_url=live_server, locale="zh-CN", bypass_csp=True)
    context.set_default_timeout(10_000)
    user_page = await context.new_page()
    try:
        await sign_in_page(user_page, f"web_agent_{tenant.group_id}", password, next_path=f"/organisation/stores/{store_id}")
        # a temporary password: the first thing is to choose one's own
        await user_page.locator("#password-forced").wait_for()
        await user_page.fill("input[name=current_password]", password)
        await user_page.fill("input[name=new_password]", "Zhou-wangye-2026")
        await user_page.fill("input[name=repeat_password]", "Zhou-wangye-2026")
        async with user_page.expect_navigation():
            await user_page.click("form[action='/account/password'] button[type=submit]")
        await user_page.locator("#password-saved").wait_for()
        await user_page.goto(f"/organisation/stores/{store_id}")
        assert "网页新开4S店" in await user_page.locator("h1").inner_text()
        assert "09:30" in await user_page.locator("#store-card").inner_text()
        other = await user_page.goto(f"/organisation/stores/{tenant.store_a}")
        assert other.status == 404
        await user_page.goto("/callbacks")
        assert "/login" not in user_page.url

        # the admin disables them: their next click lands on the sign-in page
        await page.goto(f"/people/{user_id}")
        async with page.expect_navigation():
            await page.locator("#disable-user").click()
        assert "已停用" in await page.locator("#released").inner_text()
        await user_page.goto("/callbacks")
        assert "/login" in user_page.url
    finally:
        await context.close()
