"""Complaint attachments over HTTP: the JSON API (upload, list, one, the file, removal, refusals with field
messages) and the complaint page's panel (htmx upload, thumbnails, players, removal)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from crm.complaints import attachments
from crm.complaints.tables import ComplaintAttachment
from crm.settings import get_settings
from tests.support.attachments import SAMPLES, photo
from tests.support.builders import complaint, customer_with_car
from tests.support.web import csrf_of

API = "/api/v1/complaints"


async def _complaint(tenant) -> int:
    return await complaint(tenant, await customer_with_car(tenant, "A"), store="A")


def _files() -> set[Path]:
    root = get_settings().attachment_dir
    return set(root.rglob("*")) if root.exists() else set()


async def test_upload_list_read_download_and_remove(client, tenant):
    cid = await _complaint(tenant)
    headers = await tenant.headers("store_cr_manager@A")
    name, content, content_type = SAMPLES["jpg"]

    created = await client.post(f"{API}/{cid}/attachments", headers=headers,
                                files={"file": (name, content, "application/octet-stream")})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["content_type"] == content_type and body["filename"] == name and body["size"] == len(content)
    assert body["kind"] == "image" and body["uploaded_by_name"]

    listed = await client.get(f"{API}/{cid}/attachments", headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [body["id"]] and listed.json()["total"] == 1
    one = await client.get(f"{API}/{cid}/attachments/{body['id']}", headers=headers)
    assert one.status_code == 200 and one.json()["filename"] == name

    got = await client.get(f"{API}/{cid}/attachments/{body['id']}/content", headers=headers)
    assert got.status_code == 200 and got.content == content
    assert got.headers["content-type"].startswith("image/jpeg")
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E8%BD%A6" in disposition

    removed = await client.delete(f"{API}/{cid}/attachments/{body['id']}", headers=headers)
    assert removed.status_code == 204
    assert (await client.get(f"{API}/{cid}/attachments/{body['id']}", headers=headers)).status_code == 404
    assert (await client.get(f"{API}/{cid}/attachments", headers=headers)).json()["total"] == 0


async def test_bad_uploads_answer_4xx_with_a_field_message_and_keep_nothing(client, tenant, monkeypatch):
    cid = await _complaint(tenant)
    headers = await tenant.headers("store_cr_manager@A")
    before = _files()

    wrong = await client.post(f"{API}/{cid}/attachments", headers=headers,
                              files={"file": ("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert wrong.status_code == 400
    [problem] = wrong.json()["errors"]
    assert problem["field"] == "file" and "不支持的文件类型" in problem["message_zh"] and problem["message_en"]

    empty = await client.post(f"{API}/{cid}/attachments", headers=headers, files={"file": ("a.jpg", b"", "image/jpeg")})
    assert empty.status_code == 400 and empty.json()["errors"][0]["message_zh"] == "文件为空，请重新选择。"

    no_file = await client.post(f"{API}/{cid}/attachments", headers=headers, data={"note": "x"},
                                files={"other": ("a.jpg", SAMPLES["jpg"][1], "image/jpeg")})
    assert no_file.status_code == 400 and no_file.json()["errors"][0]["field"] == "file"
    as_json = await client.post(f"{API}/{cid}/attachments", headers=headers, json={"file": "abc"})
    assert as_json.status_code == 400 and as_json.json()["errors"][0]["field"] == "file"

    big = photo(size=(300, 200))
    limited = dataclasses.replace(get_settings(), attachment_max_bytes=len(big) - 1)
    monkeypatch.setattr(attachments, "get_settings", lambda: limited)
    too_big = await client.post(f"{API}/{cid}/attachments", headers=headers, files={"file": ("big.jpg", big, "image/jpeg")})
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["field"] == "file" and "文件过大" in too_big.json()["errors"][0]["message_zh"]

    assert _files() == before
    assert not await ComplaintAttachment.exists().where(ComplaintAttachment.complaint == cid)


async def test_another_group_and_another_store_get_404(client, tenant, other_tenant):
    cid = await _complaint(tenant)
    owner = await tenant.headers("store_cr_manager@A")
    created = (await client.post(f"{API}/{cid}/attachments", headers=owner,
                                 files={"file": SAMPLES["png"][:2]})).json()
    before = _files()
    for headers in (await other_tenant.headers("group_admin"), await tenant.headers("store_cr_manager@B")):
        assert (await client.get(f"{API}/{cid}/attachments", headers=headers)).status_code == 404
        assert (await client.get(f"{API}/{cid}/attachments/{created['id']}", headers=headers)).status_code == 404
        assert (await client.get(f"{API}/{cid}/attachments/{created['id']}/content", headers=headers)).status_code == 404
        assert (await client.delete(f"{API}/{cid}/attachments/{created['id']}", headers=headers)).status_code == 404
        upload = await client.post(f"{API}/{cid}/attachments", headers=headers, files={"file": SAMPLES["png"][:2]})
        assert upload.status_code == 404
    assert _files() == before


async def test_the_complaint_page_uploads_shows_and_removes_attachments(browser_session, tenant):
    cid = await _complaint(tenant)
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await manager.get(f"/complaints/{cid}")
    assert 'id="attachments"' in page.text and 'id="attachment-upload"' in page.text and "还没有附件。" in page.text
    csrf = {"X-CSRFToken": csrf_of(page.text), "HX-Request": "true"}

    photo_up = await manager.post(f"/complaints/{cid}/attachments", headers=csrf,
                                  files={"file": ("车门划痕.jpg", SAMPLES["jpg"][1], "image/jpeg")})
    assert photo_up.status_code == 200 and "已上传：车门划痕.jpg" in photo_up.text
    [photo_id] = re.findall(r'<img class="thumb" src="/complaints/\d+/attachments/(\d+)"', photo_up.text)
    sound = await manager.post(f"/complaints/{cid}/attachments", headers=csrf,
                               files={"file": ("通话.mp3", SAMPLES["mp3"][1], "audio/mpeg")})
    assert re.search(r'<audio controls preload="none" src="/complaints/\d+/attachments/\d+">', sound.text)
    refused = await manager.post(f"/complaints/{cid}/attachments", headers=csrf,
                                 files={"file": ("x.jpg", b"<html></html>", "image/jpeg")})
    assert refused.status_code == 400 and "不支持的文件类型" in refused.text

    shown = await manager.get(f"/complaints/{cid}/attachments/{photo_id}")
    assert shown.status_code == 200 and shown.content == SAMPLES["jpg"][1]
    assert shown.headers["content-disposition"].startswith("attachment;")
    page = await manager.get(f"/complaints/{cid}")
    assert "车门划痕.jpg" in page.text and "通话.mp3" in page.text and "上传附件" in page.text  # the timeline

    removed = await manager.post(f"/complaints/{cid}/attachments/{photo_id}/remove", headers=csrf)
    assert removed.status_code == 200 and "已删除附件。" in removed.text and "车门划痕.jpg" not in removed.text

    # A plain form post (no htmx, the CSRF token in the form) works too.
    plain = await manager.post(f"/complaints/{cid}/attachments", data={"_csrf_token": csrf_of(page.text)},
                               files={"file": ("单据.pdf", SAMPLES["pdf"][1], "application/pdf")})
    assert plain.status_code == 200 and "已上传：单据.pdf" in plain.text


async def test_hq_reads_attachments_but_gets_no_upload_form(browser_session, tenant):
    cid = await _complaint(tenant)
    viewer = await browser_session(tenant.usernames["hq_viewer"])
    page = await viewer.get(f"/complaints/{cid}")
    assert 'id="attachments"' in page.text and 'id="attachment-upload"' not in page.text
