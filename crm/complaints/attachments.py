"""Complaint attachments (附件): photos of the car, documents (invoices, repair orders), call recordings.

A file is accepted by what it is, not by what it is called: its first bytes (and, for Office files, the parts
inside the ZIP) must be one of `TYPES`. Each file has a size limit (`ATTACHMENT_MAX_BYTES`, 20 MB by default)
and so has each complaint (`ATTACHMENT_COMPLAINT_MAX_BYTES`, 200 MB). An upload is streamed to the file store
and checked there; only then are its row, the complaint's timeline entry and the audit entry written, in one
transaction — a refused upload leaves no file and no row.

Who may do what is decided here (`may_add`, `may_remove`): everyone who may read the complaint sees its
attachments; those who take, handle or revisit complaints add them while it is open; the uploader or the
store's managers remove them while it is open. The staff member the complaint is about does neither
(对原接待个人的投诉,原接待员工不得参与).
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import msgspec
from piccolo.query.functions.aggregate import Sum

from crm import clock, lists
from crm.complaints import service, workflow
from crm.complaints.tables import Complaint, ComplaintAttachment
from crm.db import transaction
from crm.settings import get_settings
from crm.storage import Received, TooLarge, file_store
from tenants import audit
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.scope import Scope

READERS = workflow.READERS
# Those who take, handle or revisit complaints (the complaint's handler too, whatever their role).
ADDERS = workflow.INTAKE_ROLES | workflow.HANDLING_ROLES | workflow.REVISIT_ROLES
# Besides the uploader, who may remove an attachment: the store's managers.
REMOVERS = workflow.STORE_MANAGERS

KINDS: dict[str, tuple[str, str]] = {
    "image": ("照片", "Photo"),
    "document": ("文档", "Document"),
    "recording": ("录音", "Recording"),
}


@dataclass(frozen=True)
class FileType:
    content_type: str
    kind: str
    label: str
    shown_inline: bool = False  # a browser shows it as a thumbnail (HEIC it does not)


TYPES: dict[str, FileType] = {
    "jpg": FileType("image/jpeg", "image", "JPG", True),
    "png": FileType("image/png", "image", "PNG", True),
    "webp": FileType("image/webp", "image", "WebP", True),
    "heic": FileType("image/heic", "image", "HEIC"),
    "pdf": FileType("application/pdf", "document", "PDF"),
    "docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document", "Word"),
    "xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document", "Excel"),
    "mp3": FileType("audio/mpeg", "recording", "MP3"),
    "wav": FileType("audio/wav", "recording", "WAV"),
    "m4a": FileType("audio/mp4", "recording", "M4A"),
    "amr": FileType("audio/amr", "recording", "AMR"),
}
BY_CONTENT_TYPE = {t.content_type: t for t in TYPES.values()}
# What the upload form offers (the server decides by content; this only helps the file picker).
ACCEPT = ",".join(f".{name}" for name in TYPES) + ",.jpeg,image/*,audio/*"
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_M4A_BRANDS = {b"M4A ", b"M4B "}


class AttachmentRecord(msgspec.Struct, kw_only=True):
    id: int
    complaint_id: int
    filename: str
    content_type: str
    kind: str
    kind_zh: str
    type_label: str
    size: int
    uploaded_by: int | None
    uploaded_by_name: str
    uploaded_at: datetime
    shown_inline: bool
    can_remove: bool


@dataclass(frozen=True)
class Download:
    """What a download answers: the record, and the file's bytes as a stream."""

    record: AttachmentRecord
    chunks: AsyncIterator[bytes]


class AttachmentTooLarge(InvalidInput):
    """Too large for one file or for the complaint (HTTP 413)."""


def max_file_bytes() -> int:
    return get_settings().attachment_max_bytes


def may_add(actor: Scope, complaint: Complaint) -> bool:
    if _is_accused(actor, complaint):
        return False
    return complaint.handler_user == actor.user_id or actor.has_role(*ADDERS)


def may_remove(actor: Scope, complaint: Complaint, uploaded_by: int | None) -> bool:
    if _is_accused(actor, complaint):
        return False
    return uploaded_by == actor.user_id or actor.has_role(*REMOVERS)


def is_open(complaint: Complaint) -> bool:
    return workflow.State(complaint.state) not in workflow.FINAL_STATES


class Upload(Protocol):
    """An uploaded file: its bytes, read once as they arrive, and the name the uploader gave it (known once
    reading has started)."""

    filename: str

    def __aiter__(self) -> AsyncIterator[bytes]: ...


async def add_attachment(*, actor: Scope, complaint_id: int, upload: Upload) -> AttachmentRecord:
    """Keep an uploaded file with the complaint.

    Refused (nothing kept): not the caller's complaint (NotFound), a role that may not add (Forbidden), a closed
    complaint (Conflict), an empty file or one of another type (InvalidInput), too large (AttachmentTooLarge).
    """
    actor.require_role(*READERS)
    complaint = await actor.get(Complaint, complaint_id)
    if not may_add(actor, complaint):
        raise Forbidden()
    _require_open(complaint)
    limit = max_file_bytes()
    store = file_store()
    try:
        received = await store.receive(upload, max_bytes=limit)
    except TooLarge:
        raise _too_large(limit) from None
    try:
        file_type = _checked(received, store.local_path(received))
        async with transaction():
            # Lock the complaint row: two uploads at once cannot both pass the complaint's total.
            await Scope.of(complaint).update(Complaint, {Complaint.updated_at: clock.now()}).where(
                Complaint.id == complaint.id
            )
            _require_room(await _used_bytes(actor, complaint_id), received.size)
            row = ComplaintAttachment(
                group=complaint.group, store=complaint.store, complaint=complaint.id, file_key=received.key,
                filename=_clean_name(upload.filename), content_type=file_type.content_type, kind=file_type.kind,
                size=received.size, sha256=received.sha256, uploaded_by=actor.user_id or None,
                uploaded_by_name=actor.display_name[:100], uploaded_at=clock.now(),
            )
            await row.save()
            await service.append_to_timeline(actor, complaint, "attachment_added", note=row.filename,
                                             data={"attachment_id": row.id, "kind": row.kind, "size": row.size})
            await audit.record(actor, "complaint.attachment.add", "complaint_attachment", row.id,
                               after=_audited(row.to_dict()))
            await store.keep(received)
    except BaseException:
        await store.discard(received.key, received)
        raise
    return _record(actor, complaint, row.to_dict())


async def may_add_to(*, actor: Scope, complaint_id: int) -> bool:
    """Whether the page offers the upload form."""
    complaint = await actor.get(Complaint, complaint_id)
    return is_open(complaint) and may_add(actor, complaint)


ATTACHMENT_LIST = lists.ListSpec(
    name="attachments",
    sorts={"uploaded": (ComplaintAttachment.id,), "filename": (ComplaintAttachment.filename,),
           "kind": (ComplaintAttachment.kind,), "size": (ComplaintAttachment.size,),
           "uploaded_by": (ComplaintAttachment.uploaded_by_name,)},
    default_sort="uploaded",
    tiebreak=ComplaintAttachment.id,
    page_size=100,
)


async def list_attachments(*, actor: Scope, complaint_id: int) -> list[AttachmentRecord]:
    """The complaint's attachments, all of them, oldest first (the complaint page's panel)."""
    return (await attachment_page(actor=actor, complaint_id=complaint_id, want=None)).items


async def attachment_page(*, actor: Scope, complaint_id: int, want: lists.ListQuery | None
                          ) -> lists.Page[AttachmentRecord]:
    """The complaint's attachments, a page with the total (`want`), or all of them oldest first (None)."""
    actor.require_role(*READERS)
    complaint = await actor.get(Complaint, complaint_id)
    mine = ComplaintAttachment.complaint == complaint_id
    return await lists.fetch_page(
        ATTACHMENT_LIST, want, rows=_in_complaint(actor).select(ComplaintAttachment).where(mine),
        count=_in_complaint(actor).count(ComplaintAttachment).where(mine), item=lambda r: _record(actor, complaint, r))


async def get_attachment(*, actor: Scope, complaint_id: int, attachment_id: int) -> AttachmentRecord:
    actor.require_role(*READERS)
    complaint = await actor.get(Complaint, complaint_id)
    return _record(actor, complaint, await _row(actor, complaint_id, attachment_id))


async def open_attachment(*, actor: Scope, complaint_id: int, attachment_id: int) -> Download:
    """The attachment's record and its bytes, read from the file store as they are sent."""
    record = await get_attachment(actor=actor, complaint_id=complaint_id, attachment_id=attachment_id)
    row = await _row(actor, complaint_id, attachment_id)
    store = file_store()
    if not store.exists(row["file_key"]):  # lost from the disk: say so before a response has started
        raise NotFound("complaint_attachment")
    return Download(record=record, chunks=store.read(row["file_key"]))


async def remove_attachment(*, actor: Scope, complaint_id: int, attachment_id: int) -> None:
    """Remove an attachment: its row now, its file once the removal is committed."""
    actor.require_role(*READERS)
    complaint = await actor.get(Complaint, complaint_id)
    store = file_store()
    async with transaction():
        row = await _row(actor, complaint_id, attachment_id)
        if not may_remove(actor, complaint, row["uploaded_by"]):
            raise Forbidden()
        _require_open(complaint)
        await _in_complaint(actor).delete(ComplaintAttachment).where(ComplaintAttachment.id == attachment_id)
        await service.append_to_timeline(actor, complaint, "attachment_removed", note=row["filename"],
                                         data={"attachment_id": attachment_id})
        await audit.record(actor, "complaint.attachment.remove", "complaint_attachment", attachment_id,
                           before=_audited(row))
    await store.discard(row["file_key"])


# ---------------------------------------------------------------- helpers


def detect(head: bytes) -> str | None:
    """The type's name (a key of TYPES) from a file's first bytes; "zip" for an Office file still to look into."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[4:8] == b"ftyp":
        box = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(box, len(head)), 4)}
        if brands & _HEIC_BRANDS:
            return "heic"
        if brands & _M4A_BRANDS:
            return "m4a"
        return None
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "mp3"  # an ID3 tag, or an MPEG audio layer III frame
    return None


def _checked(received: Received, path) -> FileType:
    if received.size == 0:
        raise InvalidInput.one("file", "文件为空，请重新选择。", "The file is empty.")
    name = detect(received.head)
    if name == "zip":
        name = _office_type(path)
    if name is None:
        raise InvalidInput.one(
            "file", "不支持的文件类型：仅可上传照片（JPG、PNG、WebP、HEIC）、PDF、Word、Excel 或录音（MP3、WAV、M4A、AMR）。",
            "Unsupported file type: photos (JPG, PNG, WebP, HEIC), PDF, Word, Excel or recordings (MP3, WAV, M4A, AMR) only.",
        )
    return TYPES[name]


def _office_type(path) -> str | None:
    """A Word or Excel file is a ZIP holding its main part; any other ZIP is refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _too_large(limit: int) -> AttachmentTooLarge:
    mb = _megabytes(limit)
    return AttachmentTooLarge([FieldProblem("file", f"文件过大：每个文件不能超过 {mb} MB。",
                                            f"The file is too large: at most {mb} MB per file.")])


def _require_room(used: int, size: int) -> None:
    limit = get_settings().attachment_complaint_max_bytes
    if used + size > limit:
        mb = _megabytes(limit)
        raise AttachmentTooLarge([FieldProblem("file", f"本投诉的附件合计不能超过 {mb} MB。",
                                               f"A complaint's attachments may total at most {mb} MB.")])


def _require_open(complaint: Complaint) -> None:
    if not is_open(complaint):
        raise Conflict("投诉已结案或作废，附件不能再更改。", "The complaint is closed or voided: its attachments are final.",
                       {"state": complaint.state})


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _clean_name(filename: str) -> str:
    """What the uploader called the file, without a path or control characters (shown and offered back only)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    return name[-255:] or "附件"


def _in_complaint(actor: Scope) -> Scope:
    """A complaint's attachments follow it when it is re-routed: read through the complaint (checked first),
    within the caller's group."""
    return actor.group_wide()


async def _row(actor: Scope, complaint_id: int, attachment_id: int) -> dict:
    row = await _in_complaint(actor).select(ComplaintAttachment).where(
        ComplaintAttachment.id == attachment_id, ComplaintAttachment.complaint == complaint_id
    ).first()
    if row is None:
        raise NotFound("complaint_attachment")
    return row


async def _used_bytes(actor: Scope, complaint_id: int) -> int:
    row = await _in_complaint(actor).select(ComplaintAttachment, Sum(ComplaintAttachment.size, alias="used")).where(
        ComplaintAttachment.complaint == complaint_id
    ).first()
    return int((row or {}).get("used") or 0)


def _is_accused(actor: Scope, complaint: Complaint) -> bool:
    return complaint.accused_user is not None and complaint.accused_user == actor.user_id


def _audited(row: dict) -> dict:
    return {k: row[k] for k in ("complaint", "filename", "content_type", "size", "sha256")}


def _record(actor: Scope, complaint: Complaint, row: dict) -> AttachmentRecord:
    file_type = BY_CONTENT_TYPE[row["content_type"]]
    return AttachmentRecord(
        id=row["id"], complaint_id=row["complaint"], filename=row["filename"], content_type=row["content_type"],
        kind=row["kind"], kind_zh=KINDS[row["kind"]][0], type_label=file_type.label, size=row["size"],
        uploaded_by=row["uploaded_by"], uploaded_by_name=row["uploaded_by_name"], uploaded_at=row["uploaded_at"],
        shown_inline=file_type.shown_inline,
        can_remove=is_open(complaint) and may_remove(actor, complaint, row["uploaded_by"]),
    )

