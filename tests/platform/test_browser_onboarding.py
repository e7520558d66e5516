"""In a real browser: the platform admin onboards a group, its first admin activates the account from the link
(a weak password is refused in Chinese), signs in with the group code and finds the group's audit log."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from tests.support.accounts import STRONG, platform_admin


async def test_a_group_is_onboarded_and_its_admin_activates_and_signs_in(page, sign_in):
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
    assert "group.create" in log and "user.activate" in log
