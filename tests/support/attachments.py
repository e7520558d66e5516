"""Sample files for complaint attachments (a real photo, Office files, recordings) and an in-memory upload."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import AsyncIterator

from PIL import Image


class MemoryUpload:
    """An upload for the service, in chunks as they would arrive over HTTP."""

    def __init__(self, filename: str, content: bytes, chunk: int = 64 * 1024) -> None:
        self.filename, self.content, self.chunk = filename, content, chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.content), self.chunk):
            yield self.content[start:start + self.chunk]


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def office(main_part: str) -> bytes:
    """A minimal Word (`word/document.xml`) or Excel (`xl/workbook.xml`) package."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(main_part, "<x/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO media file's first box (HEIC photos, M4A recordings), then some bytes."""
    brands = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + b"\0" * 64


def wav() -> bytes:
    return b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + b"\0" * 64


SAMPLES: dict[str, tuple[str, bytes, str]] = {
    # type name → (the uploader's file name, content, the content type kept)
    "jpg": ("车门划痕.jpg", photo("JPEG"), "image/jpeg"),
    "png": ("screenshot.png", photo("PNG"), "image/png"),
    "webp": ("photo.webp", photo("WEBP"), "image/webp"),
    "heic": ("IMG_0001.HEIC", ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
    "pdf": ("维修工单.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    "docx": ("说明.docx", office("word/document.xml"),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("费用.xlsx", office("xl/workbook.xml"),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "mp3": ("通话.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 32, "audio/mpeg"),
    "wav": ("通话.wav", wav(), "audio/wav"),
    "m4a": ("录音.m4a", ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "amr": ("录音.amr", b"#!AMR\n" + b"\x3c" * 64, "audio/amr"),
}
# Files that claim to be something they are not, or that are of no allowed type.
REFUSED: dict[str, tuple[str, bytes]] = {
    "program named as a photo": ("photo.jpg", b"MZ\x90\x00" + b"\0" * 64),
    "text named as a PDF": ("report.pdf", "这不是PDF".encode()),
    "a plain ZIP": ("files.docx", plain_zip()),
    "an MP4 video": ("clip.m4a", ftyp(b"isom", b"isom", b"avc1")),
    "HTML": ("page.png", b"<html><script>alert(1)</script></html>"),
}
