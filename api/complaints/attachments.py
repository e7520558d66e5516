"""Complaint attachments over HTTP: the JSON API under /api/v1/complaints/{id}/attachments and the complaint
page's attachment panel (upload with htmx, thumbnails, recordings, download, removal).

Thin: the upload is parsed from the request as it arrives (`MultipartFile`) and handed to
`crm.complaints.attachments`, which checks and keeps it; downloads stream the stored file back with
`Content-Disposition: attachment` and `nosniff`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.response import Stream, Template
from multipart import (
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
)

from api.auth import requires
from api.errors import error_body
from api.lists import PageParam, PageSizeParam, SortParam
from api.openapi import streamed_upload
from api.params import IdParam
from api.web.forms import existing_id
from crm.complaints import attachments
from crm.complaints.attachments import AttachmentRecord, AttachmentTooLarge
from crm.lists import Page
from crm.settings import get_settings
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput
from tenants.scope import Scope

# Litestar's own cap on the body, well above the per-file limit that the upload itself enforces with a
# field message; a body past it is cut off with a plain 413.
BODY_CAP = 2 * get_settings().attachment_max_bytes + 1024 * 1024
NO_FILE = FieldProblem("file", "请选择要上传的文件。", "Choose a file to upload.")


class MultipartFile:
    """The `file` part of a multipart/form-data request, yielded chunk by chunk as the body arrives.

    `filename` is known once the part's headers have been read; other parts are skipped. A request without a
    file part (or not multipart at all) is a field problem, raised when the chunks are first read — after the
    service has looked the complaint up, so an id of another tenant still answers 404.

    A plain form post (no htmx: the CSRF token travels in the form) has been read by the CSRF check already,
    which kept the file in a spooled temporary file: `spooled` reads that instead.
    """

    def __init__(self, request: Request[Any, Any, Any], *, spooled: bool = False, field: str = "file") -> None:
        self.request, self.spooled, self.field = request, spooled, field
        self.filename = ""
        self._reading = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        media_type, options = self.request.content_type
        boundary = options.get("boundary")
        if media_type != "multipart/form-data" or not boundary:
            raise InvalidInput([NO_FILE])
        if self.spooled:
            async for chunk in self._from_form():
                yield chunk
            return
        self._reading = True
        found = in_file = False
        try:
            with PushMultipartParser(boundary.encode(), max_segment_count=16) as parser:
                async for chunk in self.request.stream():
                    for part in parser.parse(chunk):
                        if isinstance(part, MultipartSegment):
                            in_file = part.name == self.field and part.filename is not None and not found
                            if in_file:
                                found, self.filename = True, part.filename
                        elif part and in_file:
                            yield bytes(part)
                        elif not part:
                            in_file = False
        except (ParserError, ParserLimitReached):
            raise InvalidInput([NO_FILE]) from None
        if not found:
            raise InvalidInput([NO_FILE])

    async def _from_form(self) -> AsyncIterator[bytes]:
        upload = (await self.request.form()).get(self.field)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput([NO_FILE])
        self.filename = upload.filename
        while chunk := await upload.read(64 * 1024):
            yield chunk

    async def drain(self) -> None:
        """Read what is left of the body after a refusal, so that the client hears the answer, not a reset."""
        if not self._reading:
            return
        try:
            async for _ in self.request.stream():
                pass
        except HTTPException:
            pass  # read to its end already, or past the body cap


async def _add(request: Request[Any, Any, Any], actor: Scope, complaint_id: int, *, web: bool = False) -> AttachmentRecord:
    upload = MultipartFile(request, spooled=web and "x-csrftoken" not in request.headers)
    try:
        return await attachments.add_attachment(actor=actor, complaint_id=complaint_id, upload=upload)
    except (InvalidInput, Conflict, Forbidden):
        await upload.drain()
        raise


def download(found: attachments.Download) -> Stream:
    """The stored file, streamed, always as a download (never rendered by the browser as a page)."""
    record = found.record
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in record.filename)
    return Stream(
        found.chunks,
        media_type=record.content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(record.filename)}",
            "Content-Length": str(record.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------- JSON API


@post("/{complaint_id:int}/attachments", status_code=201, request_max_body_size=BODY_CAP,
      operation_class=streamed_upload("The file: a photo (JPG, PNG, WebP, HEIC), a PDF, Word or Excel file, or a call "
                                      "recording (MP3, WAV, M4A, AMR); recognised by its content."))
async def add_attachment(
    request: Request[Scope, Any, Any], actor: Scope, complaint_id: IdParam
) -> Response[AttachmentRecord]:
    """Upload one file (multipart/form-data, field `file`): a photo (JPG, PNG, WebP, HEIC), a PDF, a Word or
    Excel file, or a call recording (MP3, WAV, M4A, AMR). The type is recognised from the content. Too large
    for one file or for the complaint: 413; empty, of another type or no file: 400. Nothing is kept then."""
    try:
        return Response(await _add(request, actor, complaint_id), status_code=201)
    except AttachmentTooLarge as refused:
        return Response(error_body(413, "文件过大", "Too large", refused.problems), status_code=413)


@get("/{complaint_id:int}/attachments")
async def list_attachments(
    actor: Scope, complaint_id: IdParam, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[AttachmentRecord]:
    """The complaint's attachments (photos, documents, call recordings): name, type, size and who added them; one
    page with the total. `sort`: `uploaded` (default, oldest first), `filename`, `kind`, `size`, `uploaded_by`."""
    want = attachments.ATTACHMENT_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await attachments.attachment_page(actor=actor, complaint_id=complaint_id, want=want)


@get("/{complaint_id:int}/attachments/{attachment_id:int}")
async def get_attachment(actor: Scope, complaint_id: IdParam, attachment_id: IdParam) -> AttachmentRecord:
    """One attachment's record; the file itself is at `/content`."""
    return await attachments.get_attachment(actor=actor, complaint_id=complaint_id, attachment_id=attachment_id)


@get("/{complaint_id:int}/attachments/{attachment_id:int}/content")
async def attachment_content(actor: Scope, complaint_id: IdParam, attachment_id: IdParam) -> Stream:
    """The file itself, with its content type, as a download."""
    return download(await attachments.open_attachment(actor=actor, complaint_id=complaint_id,
                                                      attachment_id=attachment_id))


@delete("/{complaint_id:int}/attachments/{attachment_id:int}", status_code=204)
async def remove_attachment(actor: Scope, complaint_id: IdParam, attachment_id: IdParam) -> None:
    """Remove an attachment of an open complaint (the timeline records it); the file goes once that is committed."""
    await attachments.remove_attachment(actor=actor, complaint_id=complaint_id, attachment_id=attachment_id)


# ---------------------------------------------------------------- the complaint page's panel

PAGE = "/complaints/{complaint_id:int}/attachments"


@post(PAGE, guards=[requires(*attachments.READERS)], include_in_schema=False, request_max_body_size=BODY_CAP)
async def upload_page(request: Request[Scope, Any, Any], actor: Scope, complaint_id: int) -> Template:
    """The upload form (htmx): the panel again, with the new file or the reason it was refused."""
    existing_id(complaint_id, "complaint")
    try:
        record = await _add(request, actor, complaint_id, web=True)
    except (InvalidInput, Conflict, Forbidden) as refused:
        return await panel(actor, complaint_id, refused=refused, status=403 if isinstance(refused, Forbidden) else 400)
    return await panel(actor, complaint_id, done=("attachments.uploaded", record.filename))


@get(PAGE + "/{attachment_id:int}", guards=[requires(*attachments.READERS)], include_in_schema=False)
async def download_page(actor: Scope, complaint_id: int, attachment_id: int) -> Stream:
    """The file, for the page's links, thumbnails and players (the same scoped lookup as the API)."""
    existing_id(complaint_id, "complaint")
    existing_id(attachment_id, "complaint_attachment")
    return download(await attachments.open_attachment(actor=actor, complaint_id=complaint_id,
                                                      attachment_id=attachment_id))


@post(PAGE + "/{attachment_id:int}/remove", guards=[requires(*attachments.READERS)], include_in_schema=False)
async def remove_page(actor: Scope, complaint_id: int, attachment_id: int) -> Template:
    existing_id(complaint_id, "complaint")
    existing_id(attachment_id, "complaint_attachment")
    try:
        await attachments.remove_attachment(actor=actor, complaint_id=complaint_id, attachment_id=attachment_id)
    except (Conflict, Forbidden) as refused:
        return await panel(actor, complaint_id, refused=refused, status=403 if isinstance(refused, Forbidden) else 409)
    return await panel(actor, complaint_id, done=("attachments.removed", ""))


async def panel_context(actor: Scope, complaint_id: int) -> dict[str, Any]:
    """What the complaint page's attachment panel shows (also rendered inside the complaint page)."""
    complaint_items = await attachments.list_attachments(actor=actor, complaint_id=complaint_id)
    return {
        "complaint_id": complaint_id,
        "attachments": complaint_items,
        "can_add": await attachments.may_add_to(actor=actor, complaint_id=complaint_id),
        "accept": attachments.ACCEPT,
        "max_mb": f"{attachments.max_file_bytes() / (1024 * 1024):g}",
        "kinds": attachments.KINDS,
    }


async def panel(actor: Scope, complaint_id: int, *, refused: Exception | None = None, status: int = 200,
                done: tuple[str, str] | None = None) -> Template:
    problems = (refused.problems if isinstance(refused, InvalidInput)
                else [FieldProblem("", refused.zh, refused.en)] if refused is not None else [])  # type: ignore[attr-defined]
    return Template("complaints/_attachments.html", status_code=status, context={
        **await panel_context(actor, complaint_id), "attachment_errors": problems, "attachment_done": done,
    })


ROUTES = [
    Router(path="/api/v1/complaints", tags=["complaints"], route_handlers=[
        add_attachment, list_attachments, get_attachment, attachment_content, remove_attachment,
    ]),
    upload_page, download_page, remove_page,
]
