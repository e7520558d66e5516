"""In a real browser: HQ filters the dashboard by brand division, sorts a column and opens the items behind a
number, down to one complaint."""

from __future__ import annotations

from datetime import date

from tests.support.builders import at, complaint_row, customer_with_car
from tests.support.dashboards import settle


async def test_filter_by_division_sort_and_drill_down(page, sign_in, tenant):
    # This month on the server's pinned timeline (December 2026): A 2 complaints, B 1, C (division 2) 3.
    for label, store, n in (("A", tenant.store_a, 2), ("B", tenant.store_b, 1), ("C", tenant.store_c, 3)):
        car = await customer_with_car(tenant, label)
        for k in range(n):
            await complaint_row(tenant, car, store, at(date(2026, 12, 1), 9 + k))
    await settle()
    await sign_in(page, tenant.usernames["hq_viewer"], next_path="/dashboard")
    assert await page.locator("#dash-table tbody tr").count() == 3

    await page.select_option("#dash-division", str(tenant.division_ids[0]))
    async with page.expect_navigation():
        await page.click("#dash-apply")
    rows = page.locator("#dash-table tbody tr")
    assert {await rows.nth(i).get_attribute("data-store") for i in range(await rows.count())} == {
        str(tenant.store_a), str(tenant.store_b)}

    sort = page.locator('#dash-table thead a[data-column="complaints"]')
    async with page.expect_navigation():
        await sort.click()  # ascending: B (1) before A (2)
    assert await rows.first.get_attribute("data-store") == str(tenant.store_b)
    async with page.expect_navigation():
        await page.locator('#dash-table thead a[data-column="complaints"]').click()  # descending
    assert "sort=complaints" in page.url and "order=desc" in page.url
    assert await rows.first.get_attribute("data-store") == str(tenant.store_a)

    async with page.expect_navigation():
        await rows.first.locator('td[data-column="complaints"] a').click()
    assert "/dashboard/items" in page.url
    items = page.locator("#dash-items tbody tr")
    assert await items.count() == 2
    async with page.expect_navigation():
        await items.first.locator("a").click()
    assert "/complaints/" in page.url


async def test_the_group_admin_shows_store_names_to_store_managers(page, sign_in, tenant):
    await sign_in(page, tenant.usernames["group_admin"], next_path="/dashboard")
    async with page.expect_navigation():
        await page.click("#dash-settings-link")
    assert await page.is_checked("#store-names-hidden")
    await page.check("#store-names-shown")
    async with page.expect_navigation():
        await page.click("#dash-settings-save")
    await page.wait_for_selector("#settings-saved")
    assert await page.is_checked("#store-names-shown")

    await page.context.clear_cookies()
    await sign_in(page, tenant.usernames["store_gm@A"], next_path="/dashboard")
    rows = page.locator("#dash-table tbody tr")
    assert {await rows.nth(i).get_attribute("data-store") for i in range(await rows.count())} == {
        str(s) for s in tenant.store_ids}
    own = page.locator("#dash-table tbody tr.dash-own")
    assert await own.count() == 1 and await own.get_attribute("data-store") == str(tenant.store_a)
    other = page.locator(f'#dash-table tbody tr[data-store="{tenant.store_b}"] td[data-column="complaints"] a')
    assert await other.count() == 0  # another store's items stay closed
    assert await page.locator("#dash-settings-link").count() == 0
