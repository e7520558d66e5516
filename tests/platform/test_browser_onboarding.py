"""In a real browser: the platform admin onboards a group, its first admin activates the account from the link
(a weak password is refused in Chinese), signs in with the group code, finds the group's audit log, opens two
stores and gives the first one a user; that user signs in, chooses a password and sees only their store."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from tests.support.accounts import STRONG, platform_admin
from tests.support.browser import sign_in_page


async def test_a_group_is_onboarded_and_its_admin_activates_and_signs_in(page, sign_in, browser, live_server):
    admin = await platform_admin()
    await sign_in(page, admin["username"], next_path="/platform")
    assert page.url.endswith("/platform")

    code = f"B{uuid.uuid4().hex[:7]}"
    await page.fill("#new-group input[name=code]", code)
    await page.fill("#new-group input[name=name]", f"浙北汽车集团{code}")
    await page.fill("#new-group input[name=admin_username]", "zhou")
    await page.fill("#new-group input[name=admin_display_name]", "周敏")
    async with page.expect_navigation():
        await page.click("#new-group button[type=submit]")
    link = (await page.locator("#activation-link").inner_text()).strip()
    assert "/activate/" in link
    assert code in await page.locator("#groups").inner_text()

    await page.context.clear_cookies()  # the group admin, on their own browser
    await page.goto(link[link.index("/activate/"):])
    assert f"集团代码 {code}" in await page.locator("#activation-login").inner_text()
    await page.fill("input[name=password]", "zhou123456")
    await page.fill("input[name=repeat_password]", "zhou123456")
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    errors = await page.locator(".field-error").all_inner_texts()
    assert "密码不能包含用户名" in errors

    await page.fill("input[name=password]", STRONG)
    await page.fill("input[name=repeat_password]", STRONG)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert "/login" in page.url
    assert await page.locator("input[name=group_code]").input_value() == code, "the code is remembered"

    await page.fill("input[name=username]", "zhou")
    await page.fill("input[name=password]", STRONG)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert urlsplit(page.url).path == "/"
    await page.click("nav a[href='/audit']")
    await page.locator("#audit-entries").wait_for()
    log = await page.locator("#audit-entries").inner_text()
    assert "新建集团" in log and "激活账号" in log  # the audit log names its actions

    # The group admin opens two stores and gives the first one a callback agent.
    stores = []
    for store_code, name in (("S01", "新集团一号店"), ("S02", "新集团二号店")):
        await page.goto("/organisation")
        await page.locator("#org-stores details summary").click()
        form = page.locator("#store-new")
        await form.locator("input[name=code]").fill(store_code)
        await form.locator("input[name=name]").fill(name)
        async with page.expect_navigation():
            await form.locator("button[type=submit]").click()
        stores.append(int(page.url.rstrip("/").rsplit("/", 1)[1]))
    await page.goto("/people")
    create = page.locator("#person-new form")
    await create.locator("input[name=username]").fill("agent1")
    await create.locator("input[name=display_name]").fill("新坐席")
    await create.locator("input[name=roles][value=callback_agent]").check()
    await create.locator("select[name=store_id]").select_option(str(stores[0]))
    async with page.expect_navigation():
        await create.locator("button[type=submit]").click()
    temporary = (await page.locator("#the-password").inner_text()).strip()

    context = await browser.new_context(base_url=live_server, locale="zh-CN", bypass_csp=True)
    context.set_default_timeout(10_000)
    agent = await context.new_page()
    try:
        await sign_in_page(agent, "agent1", temporary, next_path=f"/organisation/stores/{stores[0]}", group_code=code)
        await agent.locator("#password-forced").wait_for()
        await agent.fill("input[name=current_password]", temporary)
        await agent.fill("input[name=new_password]", STRONG)
        await agent.fill("input[name=repeat_password]", STRONG)
        async with agent.expect_navigation():
            await agent.click("form[action='/account/password'] button[type=submit]")
        await agent.goto(f"/organisation/stores/{stores[0]}")
        assert "新集团一号店" in await agent.locator("h1").inner_text()
        assert (await agent.goto(f"/organisation/stores/{stores[1]}")).status == 404
        await agent.goto("/callbacks")
        assert "/login" not in agent.url and "回访工作台" in await agent.locator("h1").inner_text()
    finally:
        await context.close()
