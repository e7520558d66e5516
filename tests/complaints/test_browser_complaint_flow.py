"""In a real browser: the call center takes a complaint by keyboard, the store handles it, the group revisits."""

from __future__ import annotations

from crm.complaints import service
from tests.support.builders import customer_with_car


async def open_as(browser, live_server, sign_in, username: str):
    context = await browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await sign_in(page, username)
    return context, page


async def do(page, action: str, **fields) -> None:
    """Fill the action's form on the complaint page and submit it."""
    form = page.locator(f"#act-{action}")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]").first
        if await field.evaluate("el => el.tagName") == "SELECT":
            await field.select_option(value)
        elif await field.get_attribute("type") == "radio":
            await form.locator(f"[name={name}][value={value}]").check()
        else:
            await field.fill(value)
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()


async def test_intake_then_store_handles_then_group_revisits(browser, live_server, sign_in, tenant):
    car = await customer_with_car(tenant, "A", name="孙悦")

    # The call-center agent works from the keyboard: type the phone, ↓ Enter to take the car, Ctrl+Enter to send.
    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["call_center_agent"])
    await page.goto("/complaint-intake")
    lookup = page.locator("#lookup")
    assert await lookup.evaluate("el => el === document.activeElement")
    await lookup.press_sequentially(car.mobile, delay=15)
    await page.locator("tr.candidate").first.wait_for()
    await lookup.press("ArrowDown")
    await lookup.press("Enter")
    await page.locator("#suggestion").wait_for()
    assert await page.locator("#store_id").input_value() == str(tenant.store_a)
    await page.locator("#content:focus").wait_for()  # a selector, not evaluated script: the page's CSP allows no eval
    await page.keyboard.type("新车交付一周,空调出风有异味")
    async with page.expect_navigation():
        await page.keyboard.press("Control+Enter")
    complaint_url = page.url.split("?")[0]
    assert await page.locator("#ok-note").inner_text() == "投诉已登记。"
    assert "/complaints/" in complaint_url
    assert "待门店受理" in await page.locator("#summary").inner_text()
    await context.close()

    # The store's customer-relations manager accepts and assigns; the department head handles.
    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["store_cr_manager@A"])
    await page.goto("/complaints")
    await page.locator("#complaint-table tbody tr").first.click()
    await page.wait_for_url(complaint_url)
    await do(page, "accept", note="已登记,下发投诉处理表")
    await do(page, "assign", handler_user_id=str(tenant.users["department_head@A"]), department="service")
    assert "已派处理人" in await page.locator("#summary").inner_text()
    await context.close()

    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["department_head@A"])
    await page.goto(complaint_url)
    await do(page, "analyse", cause_category="product", department="service", liability="not_liable")
    await do(page, "countermeasure", countermeasure="清洗空调蒸发箱并更换滤芯")
    assert "处理完毕" in await page.locator("#deadline").inner_text()  # the handling deadline runs until resolved
    await do(page, "resolve", resolution="异味已消除,客户确认")
    assert "待提交处理结果报告" in await page.locator("#summary").inner_text()
    await do(page, "submit_report", result="异味已消除,客户确认", improvement_measures="PDI增加空调检查项")
    await context.close()

    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["store_cr_manager@A"])
    await page.goto(complaint_url)
    await do(page, "check_report", accepted="yes")
    assert "客关部检核通过" in await page.locator("#summary").inner_text()
    await do(page, "feed_back", note="已处理完毕")
    await context.close()

    # Group customer service finds it in the revisit queue, calls the customer, closes it.
    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["group_customer_service"])
    await page.goto("/revisits")
    await page.locator("#complaint-table tbody tr", has_text="孙悦").click()
    await page.wait_for_url(complaint_url)
    await do(page, "revisit", satisfied="yes", note="客户满意")
    await do(page, "close")
    assert "已结案" in await page.locator("#summary").inner_text()
    steps = await page.locator("#timeline li strong").all_inner_texts()
    assert steps == ["登记投诉", "门店受理", "指派处理人", "原因分析", "制定对策", "处理完毕",
                     "提交处理结果报告", "客关部检核", "反馈集团", "回访客户", "结案"]
    await context.close()


async def test_intake_warns_of_a_repeat_complaint_when_the_car_is_taken(browser, live_server, sign_in, tenant):
    car = await customer_with_car(tenant, "A", name="钱进")
    await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                   vehicle_id=car.vehicle_id, channel="hotline_400", content="刹车异响")
    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["call_center_agent"])
    await page.goto("/complaint-intake")
    await page.locator("#lookup").press_sequentially(car.mobile, delay=15)
    await page.locator("tr.candidate").first.wait_for()
    await page.locator("#lookup").press("ArrowDown")
    await page.locator("#lookup").press("Enter")
    await page.locator("#repeat-warning").wait_for()
    assert "刹车异响" in await page.locator("#repeat-warning").inner_text()
    # The agent must decide: nothing is pre-chosen.
    assert not await page.locator("#repeat_same").is_checked()
    assert not await page.locator("#repeat_different").is_checked()
    await context.close()


async def highlighted(page) -> str | None:
    """The one primary button's action; also checks the other steps wait, folded, in the menu."""
    assert await page.locator(".btn-primary").count() <= 1
    menu = page.locator("#more-actions")
    if await menu.count():
        assert await menu.get_attribute("open") is None
        assert not await menu.locator("form").first.is_visible()
    if not await page.locator("#next-action").count():
        assert await page.locator(".btn-primary").count() == 0
        return None
    form_id = await page.locator("#next-action form").get_attribute("id")
    assert await page.locator("#next-action form .btn-primary").is_visible()
    return form_id.removeprefix("act-")


async def test_store_cr_manager_walks_a_complaint_through_one_highlighted_step_at_a_time(
    browser, live_server, sign_in, tenant
):
    car = await customer_with_car(tenant, "A", name="李响")
    cid = await service.create_complaint(actor=await tenant.scope("store_cr_manager@A"), customer_id=car.customer_id,
                                         vehicle_id=car.vehicle_id, channel="walk_in", content="保养后车内有油污")
    context, page = await open_as(browser, live_server, sign_in, tenant.usernames["store_cr_manager@A"])
    await page.goto(f"/complaints/{cid}")
    head = str(tenant.users["department_head@A"])
    # Taken by the store itself, the complaint starts accepted: assigning the handler is the first step.
    walk = [
        ("assign", {"handler_user_id": head, "department": "service"}, "已指派给"),
        ("analyse", {"cause_category": "service", "department": "service", "liability": "liable"}, "已记录原因分析"),
        ("countermeasure", {"countermeasure": "重新清洁内饰并致歉"}, "已记录对策"),
        ("resolve", {"resolution": "客户确认已清洁干净"}, "已标记处理完毕"),
        ("revisit", {"satisfied": "yes", "note": "客户满意"}, "已记录回访结果"),
        ("close", {}, "已结案"),
    ]
    for action, fields, confirmation in walk:
        assert await highlighted(page) == action
        form = page.locator(f"#act-{action}")
        for name in ("department", "liability", "cause_category", "handler_user_id"):
            if await form.locator(f"select[name={name}]").count():  # nothing judged for the manager
                assert await form.locator(f"select[name={name}]").input_value() == "", (action, name)
        await do(page, action, **fields)
        assert confirmation in await page.locator("#done-note").inner_text()
    # Closed: nothing is next; reopening is a choice in the menu.
    assert await highlighted(page) is None
    await page.locator("#more-actions > summary").click()
    assert await page.locator("#act-reopen").is_visible()
    await context.close()
