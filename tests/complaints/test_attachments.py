"""Complaint attachments (附件), the domain: types recognised by content, size limits per file and per complaint,
who may add and remove, the tenant walls, the timeline and the audit log — and nothing kept from a refused upload."""

from __future__ import annotations

import dataclasses

import pytest

from crm.complaints import attachments, service
from crm.complaints.tables import ComplaintAttachment, ComplaintEvent
from crm.settings import get_settings
from tenants.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenants.tables import AuditEntry
from tests.support.attachments import REFUSED, SAMPLES, MemoryUpload, photo
from tests.support.builders import complaint, customer_with_car, walk_complaint


async def _complaint(tenant, store="A") -> int:
    car = await customer_with_car(tenant, store)
    return await complaint(tenant, car, store=store)


def _stored_files() -> set[str]:
    root = get_settings().attachment_dir
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _limits(monkeypatch, **values) -> None:
    limited = dataclasses.replace(get_settings(), **values)
    monkeypatch.setattr(attachments, "get_settings", lambda: limited)


async def test_a_photo_is_kept_with_the_complaint_on_its_timeline_and_in_the_audit_log(tenant):
    cid = await _complaint(tenant)
    manager = await tenant.scope("store_cr_manager@A")
    name, content, content_type = SAMPLES["jpg"]

    record = await attachments.add_attachment(actor=manager, complaint_id=cid,
                                              upload=MemoryUpload(name, content, chunk=1000))

    assert (record.filename, record.content_type, record.kind, record.size) == (name, content_type, "image", len(content))
    assert record.uploaded_by == manager.user_id and record.can_remove and record.shown_inline
    row = await ComplaintAttachment.select().where(ComplaintAttachment.id == record.id).first()
    assert row["store"] == tenant.store_a and row["file_key"] != name and name not in row["file_key"]
    assert row["file_key"] in _stored_files()
    download = await attachments.open_attachment(actor=manager, complaint_id=cid, attachment_id=record.id)
    assert b"".join([chunk async for chunk in download.chunks]) == content
    assert [a.id for a in await attachments.list_attachments(actor=manager, complaint_id=cid)] == [record.id]

    event = await ComplaintEvent.select().where(ComplaintEvent.complaint == cid,
                                                ComplaintEvent.action == "attachment_added").first()
    assert event["note"] == name and event["actor_user"] == manager.user_id
    entry = await AuditEntry.select().where(AuditEntry.action == "complaint.attachment.add",
                                            AuditEntry.target_id == str(record.id)).first()
    assert entry is not None and entry["group"] == tenant.group_id


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_every_allowed_type_is_recognised_by_its_content(tenant, name):
    cid = await _complaint(tenant)
    _, content, content_type = SAMPLES[name]
    # The name the uploader gave says nothing: the content decides.
    record = await attachments.add_attachment(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid,
                                              upload=MemoryUpload("upload.bin", content))
    assert record.content_type == content_type and record.filename == "upload.bin"


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_a_file_of_another_type_is_refused_whatever_it_is_called_and_nothing_is_kept(tenant, case):
    cid = await _complaint(tenant)
    before = _stored_files()
    filename, content = REFUSED[case]
    with pytest.raises(InvalidInput) as refused:
        await attachments.add_attachment(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid,
                                          upload=MemoryUpload(filename, content))
    [problem] = refused.value.problems
    assert problem.field == "file" and "不支持的文件类型" in problem.zh and "Unsupported" in problem.en
    assert _stored_files() == before
    assert not await ComplaintAttachment.exists().where(ComplaintAttachment.complaint == cid)


async def test_an_empty_file_is_refused(tenant):
    cid = await _complaint(tenant)
    with pytest.raises(InvalidInput) as refused:
        await attachments.add_attachment(actor=await tenant.scope("staff@A"), complaint_id=cid,
                                         upload=MemoryUpload("empty.jpg", b""))
    assert refused.value.problems[0].zh == "文件为空，请重新选择。"


async def test_size_limits_per_file_and_per_complaint(tenant, monkeypatch):
    cid = await _complaint(tenant)
    manager = await tenant.scope("store_cr_manager@A")
    content = photo(size=(400, 300))
    _limits(monkeypatch, attachment_max_bytes=len(content) - 1)
    before = _stored_files()
    with pytest.raises(attachments.AttachmentTooLarge) as refused:
        await attachments.add_attachment(actor=manager, complaint_id=cid, upload=MemoryUpload("big.jpg", content, 500))
    assert "文件过大" in refused.value.problems[0].zh and refused.value.problems[0].field == "file"
    assert _stored_files() == before

    _limits(monkeypatch, attachment_max_bytes=len(content), attachment_complaint_max_bytes=2 * len(content) - 1)
    await attachments.add_attachment(actor=manager, complaint_id=cid, upload=MemoryUpload("first.jpg", content))
    with pytest.raises(attachments.AttachmentTooLarge) as refused:
        await attachments.add_attachment(actor=manager, complaint_id=cid, upload=MemoryUpload("second.jpg", content))
    assert "本投诉的附件合计" in refused.value.problems[0].zh
    assert len(await attachments.list_attachments(actor=manager, complaint_id=cid)) == 1
    assert len(_stored_files()) == len(before) + 1


async def test_who_may_add_and_remove(tenant):
    cid = await _complaint(tenant)
    await walk_complaint(tenant, cid, "analysed")  # the analysis names staff@A as the accused
    await service.record_cause(actor=await tenant.scope("department_head@A"), complaint_id=cid,
                               cause_category="service", department="service", liability="liable",
                               accused_user_id=tenant.users["staff@A"])
    jpg = SAMPLES["jpg"][1]
    # Reading is not adding: HQ reads complaints but adds nothing; the accused staff member does nothing.
    for who in ("hq_viewer", "staff@A"):
        with pytest.raises(Forbidden):
            await attachments.add_attachment(actor=await tenant.scope(who), complaint_id=cid,
                                             upload=MemoryUpload("x.jpg", jpg))
    agent = await tenant.scope("callback_agent@A")
    record = await attachments.add_attachment(actor=agent, complaint_id=cid, upload=MemoryUpload("x.jpg", jpg))
    other = await attachments.add_attachment(actor=agent, complaint_id=cid, upload=MemoryUpload("y.jpg", jpg))
    head = await tenant.scope("department_head@A")
    seen = await attachments.list_attachments(actor=head, complaint_id=cid)
    assert [a.can_remove for a in seen] == [False, False]
    with pytest.raises(Forbidden):
        await attachments.remove_attachment(actor=head, complaint_id=cid, attachment_id=record.id)

    await attachments.remove_attachment(actor=agent, complaint_id=cid, attachment_id=record.id)  # the uploader
    manager = await tenant.scope("store_cr_manager@A")
    key = (await ComplaintAttachment.select().where(ComplaintAttachment.id == other.id).first())["file_key"]
    await attachments.remove_attachment(actor=manager, complaint_id=cid, attachment_id=other.id)  # a manager
    assert key not in _stored_files()
    assert await attachments.list_attachments(actor=manager, complaint_id=cid) == []
    removed = await ComplaintEvent.count().where(ComplaintEvent.complaint == cid,
                                                 ComplaintEvent.action == "attachment_removed")
    assert removed == 2
    assert await AuditEntry.exists().where(AuditEntry.action == "complaint.attachment.remove",
                                           AuditEntry.target_id == str(other.id))


async def test_a_closed_complaint_keeps_its_attachments_as_they_are(tenant):
    cid = await _complaint(tenant)
    manager = await tenant.scope("store_cr_manager@A")
    record = await attachments.add_attachment(actor=manager, complaint_id=cid,
                                              upload=MemoryUpload("x.jpg", SAMPLES["jpg"][1]))
    await walk_complaint(tenant, cid, "closed")
    with pytest.raises(Conflict):
        await attachments.add_attachment(actor=manager, complaint_id=cid, upload=MemoryUpload("y.jpg", SAMPLES["jpg"][1]))
    with pytest.raises(Conflict):
        await attachments.remove_attachment(actor=manager, complaint_id=cid, attachment_id=record.id)
    [kept] = await attachments.list_attachments(actor=manager, complaint_id=cid)
    assert not kept.can_remove


async def test_another_store_or_group_sees_nothing_and_a_rerouted_complaint_takes_its_files_along(
    tenant, other_tenant
):
    cid = await _complaint(tenant)
    agent = await tenant.scope("call_center_agent")
    record = await attachments.add_attachment(actor=agent, complaint_id=cid,
                                              upload=MemoryUpload("x.jpg", SAMPLES["jpg"][1]))
    before = _stored_files()
    for outsider in (await other_tenant.scope("group_admin"), await tenant.scope("store_cr_manager@B")):
        with pytest.raises(NotFound):
            await attachments.list_attachments(actor=outsider, complaint_id=cid)
        with pytest.raises(NotFound):
            await attachments.open_attachment(actor=outsider, complaint_id=cid, attachment_id=record.id)
        with pytest.raises(NotFound):
            await attachments.remove_attachment(actor=outsider, complaint_id=cid, attachment_id=record.id)
        with pytest.raises(NotFound):
            await attachments.add_attachment(actor=outsider, complaint_id=cid,
                                             upload=MemoryUpload("y.jpg", SAMPLES["jpg"][1]))
    assert _stored_files() == before

    await service.reroute_complaint(actor=agent, complaint_id=cid, store_id=tenant.store_b)
    manager_b = await tenant.scope("store_cr_manager@B")
    assert [a.id for a in await attachments.list_attachments(actor=manager_b, complaint_id=cid)] == [record.id]
    with pytest.raises(NotFound):
        await attachments.list_attachments(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid)
    # The attachment id with another complaint's id: not found either.
    other_cid = await _complaint(tenant, "B")
    with pytest.raises(NotFound):
        await attachments.get_attachment(actor=manager_b, complaint_id=other_cid, attachment_id=record.id)


async def test_a_file_lost_from_the_disk_answers_not_found_rather_than_a_broken_download(tenant):
    cid = await _complaint(tenant)
    manager = await tenant.scope("store_cr_manager@A")
    record = await attachments.add_attachment(actor=manager, complaint_id=cid,
                                              upload=MemoryUpload("x.jpg", SAMPLES["jpg"][1]))
    key = (await ComplaintAttachment.select().where(ComplaintAttachment.id == record.id).first())["file_key"]
    [path] = [p for p in get_settings().attachment_dir.rglob(key)]
    path.unlink()
    with pytest.raises(NotFound):
        await attachments.open_attachment(actor=manager, complaint_id=cid, attachment_id=record.id)
