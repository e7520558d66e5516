"""In a real browser: the group admin finds every setting from the 设置 menu, and a form posted over htmx shows
its field errors in place (nothing saved), then the saved note once corrected."""

from __future__ import annotations

from crm.calendar.settings import effective_settings
from crm.complaints import authority

SCREENS = [
    ("营业时间、联系时段与节假日", "/settings/calendar"),
    ("投诉处理时限", "/settings/complaint-deadlines"),
    ("权限核决表", "/settings/authority"),
    ("重大投诉预警与升级", "/settings/major-policy"),
    ("回访规则、话术与目标", "/settings/callback-rules"),
    ("通知渠道", "/settings/notification-channels"),
    ("DMS 对接密钥", "/settings/dms-keys"),
    ("客户资料导入", "/settings/customer-import"),
]


async def test_the_group_admin_walks_the_settings_menu(page, sign_in, tenant):
    await sign_in(page, tenant.usernames["group_admin"])
    async with page.expect_navigation():
        await page.click("nav .nav a:has-text('设置')")
    assert page.url.endswith("/settings")
    for title, path in SCREENS:
        async with page.expect_navigation():
            await page.click(f"#settings-menu a[href='{path}']")
        assert await page.locator(".crumbs h1").inner_text() == title
        assert await page.locator(".settings-tabs a.current").inner_text() == title
        async with page.expect_navigation():
            await page.click(".crumbs a:has-text('设置')")

    # A bad value over htmx: the error is shown beside its field, the page stays, nothing is saved.
    async with page.expect_navigation():
        await page.click("#settings-menu a[href='/settings/complaint-deadlines']")
    await page.fill("#handle_working_days", "三")
    await page.click("#save-deadlines")
    await page.locator("[data-field='handle_working_days']").wait_for()
    assert "请输入整数" in await page.locator("[data-field='handle_working_days']").inner_text()
    assert await page.input_value("#handle_working_days") == "三"
    assert page.url.endswith("/settings/complaint-deadlines")
    assert (await authority.policy_for_group(tenant.group_id)).handle_working_days == 1

    await page.fill("#handle_working_days", "2")
    await page.click("#save-deadlines")
    await page.locator("#saved-note").wait_for()
    assert await page.locator("[data-field='handle_working_days']").count() == 0
    assert (await authority.policy_for_group(tenant.group_id)).handle_working_days == 2

    # The contact window: an end before the start is refused beside the end.
    await page.click(".settings-tabs a[href='/settings/calendar']")
    await page.locator("#group-contact_start").wait_for()
    await page.fill("#group-contact_start", "21:00")
    await page.click("#save-group-calendar")
    await page.locator("#calendar-group [data-field='contact_end']").wait_for()
    assert "结束时间必须晚于开始时间" in await page.locator("#calendar-group [data-field='contact_end']").inner_text()
    assert (await effective_settings(actor=await tenant.scope("group_admin")))["contact_start"] != "21:00"
