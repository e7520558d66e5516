"""In a real browser: the store's customer-relations manager sorts the complaint list by clicking a column and
pages through it, the URL keeping filters, sort and page (a reload shows the same); HQ exports what it sees;
at phone width (360 px) the rows are cards and the sort is a choice above them."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from openpyxl import load_workbook

from tests.support.builders import complaint, customer_with_car

PHONE = {"width": 360, "height": 740}


async def _complaints(tenant, names: list[str], store: str = "A") -> list[int]:
    return [await complaint(tenant, await customer_with_car(tenant, store, name=name), store=store) for name in names]


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def _names(page) -> list[str]:
    cells = page.locator("#complaint-table tbody tr td:nth-child(4)")  # 编号, 时限, 状态, 投诉人 (one store: no store column)
    return [text.split("\n")[0].strip() for text in await cells.all_inner_texts()]


async def test_the_store_manager_sorts_and_pages_the_complaints(page, sign_in, tenant, other_tenant):
    await _complaints(tenant, ["客户D", "客户A", "客户C", "客户B", "客户E"])
    await _complaints(tenant, ["客户F"], store="B")
    await _complaints(other_tenant, ["客户G"])
    await sign_in(page, tenant.usernames["store_cr_manager@A"], next_path="/complaints?page_size=2")
    assert "共 5 条 · 第 1/3 页" in await page.locator("#complaints .list-total").inner_text()

    await page.locator("th[data-sort='customer'] a").click()
    await page.wait_for_url(lambda url: _query(url).get("sort") == ["customer"])
    await page.locator("th[data-sort='customer'][aria-sort='ascending']").wait_for()
    assert _query(page.url)["page_size"] == ["2"], "the page size stays in the URL"
    first = await _names(page)

    await page.locator("#complaints a[rel='next']").click()
    await page.wait_for_url(lambda url: _query(url).get("page") == ["2"])
    await page.locator("#complaints .pager-at", has_text="第 2/3 页").wait_for()
    second = await _names(page)
    await page.locator("#complaints a[rel='last']").click()
    await page.locator("#complaints .pager-at", has_text="第 3/3 页").wait_for()
    third = await _names(page)
    everyone = first + second + third
    assert everyone == sorted(["客户D", "客户A", "客户C", "客户B", "客户E"]), "every page in order, none of another store"

    await page.locator("th[data-sort='customer'] a").click()  # a second click: descending, back to page 1
    await page.locator("th[data-sort='customer'][aria-sort='descending']").wait_for()
    assert _query(page.url)["sort"] == ["-customer"] and "page" not in _query(page.url)
    assert await _names(page) == sorted(everyone, reverse=True)[:2]

    await page.reload()  # bookmarkable: the URL alone gives the same list
    assert await _names(page) == sorted(everyone, reverse=True)[:2]
    assert await page.locator("th[data-sort='customer']").get_attribute("aria-sort") == "descending"

    await page.fill("#complaint-filters input[name=q]", "客户A")
    await page.locator("#complaint-filters button[type=submit]").click()
    await page.wait_for_url(lambda url: _query(url).get("q") == ["客户A"])
    await page.locator("#complaints .list-total", has_text="共 1 条").wait_for()
    assert _query(page.url)["sort"] == ["-customer"], "filtering keeps the sort"


async def test_hq_exports_what_it_sees(page, sign_in, tenant, other_tenant):
    await _complaints(tenant, ["甲一", "乙二"])
    await _complaints(tenant, ["丙三"], store="B")
    await _complaints(other_tenant, ["丁四"])
    await sign_in(page, tenant.usernames["hq_viewer"], next_path="/complaints?sort=-customer")
    shown = await page.locator("#complaint-table tbody tr").count()
    assert shown == 3
    async with page.expect_download() as waiting:
        await page.locator("a[data-export='xlsx']").click()
    download = await waiting.value
    assert download.suggested_filename == "complaints.xlsx"
    sheet = load_workbook(io.BytesIO(open(await download.path(), "rb").read())).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    ids = [int(i) for i in await page.locator("#complaint-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")]
    assert [r[0] for r in rows] == ids, "the same complaints in the same order"
    assert all("*" in r[7] for r in rows), "HQ reads the complainant's phone masked, in the file too"


async def test_at_phone_width_the_rows_are_cards_and_the_sort_is_a_choice(page, sign_in, tenant):
    await _complaints(tenant, ["客户A", "客户B", "客户C"])
    await page.set_viewport_size(PHONE)
    await sign_in(page, tenant.usernames["store_cr_manager@A"], next_path="/complaints?page_size=2")
    assert not await page.locator("#complaint-table thead").is_visible()
    card = page.locator("#complaint-table tbody tr").first
    box = await card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert await card.locator("td").nth(3).get_attribute("data-label") == "投诉人"
    scroll_width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"the list scrolls sideways: {scroll_width} px"

    choice = page.locator("#complaints select[name=sort]")
    assert await choice.is_visible()
    async with page.expect_navigation():
        await choice.select_option("-customer")
    assert _query(page.url)["sort"] == ["-customer"] and _query(page.url)["page_size"] == ["2"]
    assert await _names(page) == ["客户C", "客户B"]
    assert await page.locator("#complaints a[rel='next']").is_visible()
