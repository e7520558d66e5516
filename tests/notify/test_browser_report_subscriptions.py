"""In a real browser: the group admin subscribes a store GM to a monthly report from the notification settings,
sees the field error of a missing store, and unsubscribes her again."""

from __future__ import annotations

from crm.reports.tables import ReportSubscription


async def test_the_group_admin_subscribes_and_unsubscribes_a_recipient(page, sign_in, tenant):
    gm = tenant.users["store_gm@A"]
    await sign_in(page, tenant.usernames["group_admin"], next_path="/notification-settings")
    await page.wait_for_selector("#report-subscriptions")
    await page.select_option("#subscribe-kind", "complaint_month")
    await page.select_option("#subscribe-user", str(gm))
    await page.click("#subscribe-submit")
    error = await page.wait_for_selector('#subscription-problems [data-field="store_id"]')
    assert "须指定门店" in await error.inner_text()
    await page.select_option("#subscribe-store", str(tenant.store_a))
    await page.click("#subscribe-submit")
    row = await page.wait_for_selector(f'#subscription-list tr[data-user="{gm}"][data-kind="complaint_month"]')
    assert "月份客户投诉处理统计月报表" in await row.inner_text()
    assert await ReportSubscription.count().where(ReportSubscription.user == gm) == 1
    await page.click(f'#subscription-list tr[data-user="{gm}"] button')
    await page.wait_for_selector(f'#subscription-list tr[data-user="{gm}"]', state="detached")
    assert await ReportSubscription.count().where(ReportSubscription.user == gm) == 0
