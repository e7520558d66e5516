"""In a real browser: the store's customer-relations manager adds a photo of the damage to a complaint."""

from __future__ import annotations

from tests.support.attachments import SAMPLES, photo
from tests.support.builders import complaint, customer_with_car


async def test_store_cr_manager_uploads_a_photo_and_sees_its_thumbnail(browser, live_server, sign_in, tenant):
    cid = await complaint(tenant, await customer_with_car(tenant, "A"), store="A")
    context = await browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await sign_in(page, tenant.usernames["store_cr_manager@A"])
    await page.goto(f"/complaints/{cid}")
    panel = page.locator("#attachments")
    assert "还没有附件。" in await panel.inner_text()

    await panel.locator("input[type=file]").set_input_files(
        files=[{"name": "车门划痕.jpg", "mimeType": "image/jpeg", "buffer": photo(size=(320, 240))}])
    await panel.locator("#attachment-upload button[type=submit]").click()
    await page.locator("#attachment-done").wait_for()
    row = page.locator("#attachments tr.attachment").first
    text = await row.inner_text()
    assert "车门划痕.jpg" in text and "照片" in text and "KB" in text
    thumb = row.locator("img.thumb")
    await thumb.wait_for()
    assert await thumb.evaluate("img => img.complete && img.naturalWidth") == 320  # served through the scoped route

    # A file that is not what it claims: refused on the panel, nothing added.
    await page.locator("#attachments input[type=file]").set_input_files(
        files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"<html>not a photo</html>"}])
    await page.locator("#attachment-upload button[type=submit]").click()
    await page.locator("#attachments .field-error").wait_for()
    assert "不支持的文件类型" in await page.locator("#attachments .field-error").inner_text()
    assert await page.locator("#attachments tr.attachment").count() == 1

    # A call recording plays in place.
    await page.locator("#attachments input[type=file]").set_input_files(
        files=[{"name": "通话.wav", "mimeType": "audio/wav", "buffer": SAMPLES["wav"][1]}])
    await page.locator("#attachment-upload button[type=submit]").click()
    await page.locator("#attachments audio").wait_for()
    await page.reload()
    assert "上传附件" in await page.locator("#timeline").inner_text()
    await context.close()
