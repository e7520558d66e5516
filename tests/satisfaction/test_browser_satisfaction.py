"""In a real browser, as the roles that use them: the group admin imports manufacturer scores (error report,
then the valid rows), sorts the group table and opens a store's trends; a store's customer-relations manager
reads only their own store; the group admin keeps the mystery-shopper checklist, group customer service
records an audit and imports audits with a bad row."""

from __future__ import annotations



from tenants.tables import Store
from tests.support.customers import run_queued_import
from tests.support import imports
from tests.support.imports import imported

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["门店编码", "调查方式", "期间", "指标", "得分", "区域平均", "全国平均", "全国排名", "参评店数", "电访落实率"]


async def code(store_id: int) -> str:
    return (await Store.select(Store.code).where(Store.id == store_id).first())["code"]


def xlsx(rows) -> dict:
    return {"name": "成绩.xlsx", "mimeType": XLSX, "buffer": imports.xlsx(rows)}


async def scores(tenant) -> list[list]:
    a, b = await code(tenant.store_a), await code(tenant.store_b)
    return [HEADER,
            [a, "电访", "2026-10", "SSI", 89, 86, 87, 30, 300, 90], [a, "电访", "2026-10", "CSI", 88, 91, 89, 70, 300, None],
            [a, "电访", "2026-11", "SSI", 91, 86, 87, 18, 300, 98], [a, "电访", "2026-11", "CSI", 89, 91, 89, 60, 300, None],
            [b, "电访", "2026-11", "SSI", 95, 86, 87, 3, 300, None], [b, "电访", "2026-11", "CSI", 92, 91, 89, 10, 300, None]]


async def job_report(page):
    """On an import job's page: run the job here as the worker would; the page's polling shows the report."""
    await page.wait_for_selector('#import-progress[data-status="queued"]')
    await run_queued_import(int(page.url.rsplit("/", 1)[1]))
    await page.wait_for_selector("#import-report")
    return page.locator("#import-report")


async def test_group_admin_imports_sorts_and_opens_a_store(page, sign_in, tenant):
    await sign_in(page, tenant.usernames["group_admin"], next_path="/satisfaction")
    rows = await scores(tenant)
    upload = page.locator('#scores-import input[type="file"]')
    await upload.set_input_files(xlsx([*rows, ["NOPE", "电访", "2026-13", "SSI", "x", "", "", "", "", ""]]))
    async with page.expect_navigation():
        await page.click("#scores-import button[type=submit]")
    report = await job_report(page)  # the job's page: its progress, then the report
    assert "未导入任何数据" in await report.inner_text()
    assert await report.locator('tr[data-row="8"]').count() >= 2  # store, period and score of the bad row

    await page.click("#import-again")
    await page.locator('#scores-import input[type="file"]').set_input_files(
        xlsx([*rows, ["NOPE", "电访", "2026-13", "SSI", "x", "", "", "", "", ""]]))
    await page.check('#scores-import input[name="accept_valid_rows"]')
    async with page.expect_navigation():
        await page.click("#scores-import button[type=submit]")
    assert "已导入 6 行" in await (await job_report(page)).inner_text()
    await page.goto("/satisfaction")

    table = page.locator("#satisfaction-table tbody tr")
    cs = page.locator("#satisfaction-table thead a", has_text="CS(SSI+CSI)")
    async with page.expect_navigation():
        await cs.click()  # ascending CS: A (180) before B (187)
    assert await table.first.get_attribute("data-store") == str(tenant.store_a)
    async with page.expect_navigation():
        await cs.click()
    assert await table.first.get_attribute("data-store") == str(tenant.store_b)

    async with page.expect_navigation():
        await page.click(f'tr[data-store="{tenant.store_a}"] a')
    assert f"/satisfaction/stores/{tenant.store_a}" in page.url
    assert await page.locator("#store-trends svg.trend-chart").count() == 3
    assert await page.locator('#trend-table tr[data-period="2026-10"] td[data-metric="mfr_ssi"]').inner_text() == "89.00"
    assert await page.locator('#trend-table tr[data-period="2026-11"] td[data-metric="mfr_cs"]').inner_text() == "180.00"
    assert "高于区域和全国平均" in await page.locator("#store-standing").inner_text()


async def test_store_manager_sees_only_their_store(page, sign_in, tenant, client):
    rows = await scores(tenant)
    book = xlsx(rows)
    job = await imported(client, await tenant.headers("group_admin"), "/api/v1/manufacturer-scores/import",
                         book["name"], book["buffer"])
    assert job["imported"] is True, job
    await sign_in(page, tenant.usernames["store_cr_manager@A"], next_path="/satisfaction")
    stores = page.locator("#satisfaction-table tbody tr")
    assert await stores.count() == 1 and await stores.first.get_attribute("data-store") == str(tenant.store_a)
    assert await page.locator("#scores-import").count() == 0  # store staff read, HQ imports
    async with page.expect_navigation():
        await stores.first.locator("a").click()
    assert await page.locator("#trend-table tbody tr").count() == 12
    await page.select_option('#store-standing select[name="survey"]', "visit")
    async with page.expect_navigation():
        await page.click("#store-standing button[type=submit]")
    assert "survey=visit" in page.url
    assert await page.locator('#trend-table tr[data-period="2026-Q4"]').count() == 1
    response = await page.goto(f"/satisfaction/stores/{tenant.store_b}")
    assert response.status == 404


async def test_mystery_checklist_audit_and_import(page, sign_in, tenant, browser, live_server):
    await sign_in(page, tenant.usernames["group_admin"], next_path="/mystery-shopper/checklist")
    await page.fill('#mystery-checklist textarea[name="lines"]', "展厅接待|30秒内主动迎接\n展厅接待|递送名片\n需求分析|询问用车需求\n试乘试驾|主动邀约试驾")
    async with page.expect_navigation():
        await page.click("#mystery-checklist button[type=submit]")
    assert "询问用车需求" in await page.locator('#mystery-checklist textarea[name="lines"]').input_value()

    context = await browser.new_context(base_url=live_server, locale="zh-CN")  # a second user, the CSP enforced
    context.set_default_timeout(10_000)
    agent = await context.new_page()
    try:
        await sign_in(agent, tenant.usernames["group_customer_service"], next_path="/mystery-shopper/new")
        async with agent.expect_navigation():
            await agent.select_option('#mystery-new select[name="store_id"]', str(tenant.store_a))  # data-autosubmit
        rows = agent.locator("#mystery-new tbody tr")
        assert await rows.count() == 4
        await rows.nth(3).locator('input[value="lost"]').check()
        await rows.nth(3).locator('input[name^="remark_"]').fill("未邀约试驾")
        await agent.fill('#mystery-new input[name="auditor"]', "赵六")
        async with agent.expect_navigation():
            await agent.click("#mystery-new button[type=submit]")
        assert await agent.locator("#mystery-rate").inner_text() == "75.00%"
        assert (await agent.locator("#mystery-multiplier").inner_text()).startswith("×0.7")

        await agent.goto("/mystery-shopper")
        header = ["门店编码", "检查日期", "环节", "检查项", "结果", "备注", "检查员"]
        b = await code(tenant.store_b)
        bad = xlsx([header, [b, "2026-11-18", "展厅接待", "30秒内主动迎接", "得分", "", "李四"],
                    [b, "2026-11-18", "展厅接待", "不存在的检查项", "得分", "", "李四"]])
        await agent.locator('#mystery-import input[type="file"]').set_input_files(bad)
        async with agent.expect_navigation():
            await agent.click("#mystery-import button[type=submit]")
        report = await job_report(agent)
        assert "未导入任何数据" in await report.inner_text()
        rows = report.locator("#import-errors tbody tr")
        assert await rows.count() == 1 and await report.locator('tr[data-row="3"]').count() == 1
    finally:
        await context.close()
