"""In a real browser: the store's customer-relations manager opens a customer, reads the timeline and edits a field."""

from __future__ import annotations

import re

from crm.customers.tables import Customer, CustomerChange
from crm.privacy import vault
from tests.support.builders import complaint, customer_with_history


async def test_store_cr_manager_opens_a_customer_and_edits_the_address(page, sign_in, tenant):
    car = await customer_with_history(tenant, "A", name="韩梅梅")
    complaint_id = await complaint(tenant, car, store="A", content="保养后机油渗漏")

    await sign_in(page, tenant.usernames["store_cr_manager@A"], next_path=f"/customers/{car.customer_id}")
    timeline = page.locator("#timeline")
    await timeline.wait_for()
    assert "保养后机油渗漏" in await timeline.inner_text()
    assert await timeline.locator(f'a[href="/complaints/{complaint_id}"]').count() == 1

    await page.locator("#edit-profile").click()
    await page.wait_for_url(f"**/customers/{car.customer_id}/edit")
    await page.locator('input[name="address"]').fill("上海市静安区南京西路100号")
    await page.locator('#profile-form button[type="submit"]').click()
    await page.wait_for_url(re.compile(rf"/customers/{car.customer_id}\?ok=customer_saved$"))
    assert await page.locator("#ok-note").inner_text() == "客户资料已保存。"
    assert "上海市静安区南京西路100号" in await page.locator("#profile").inner_text()
    assert "address" in await page.locator("#change-history").inner_text()

    row = vault.open_rows(
        await Customer.select(Customer.address, Customer.mobile).where(Customer.id == car.customer_id).first())
    assert row == {"address": "上海市静安区南京西路100号", "mobile": car.mobile}
    assert await CustomerChange.count().where(CustomerChange.customer == car.customer_id) == 1
