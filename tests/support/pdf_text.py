"""Text and page count of the PDFs WeasyPrint writes, for the report tests.

Neither pypdf nor pdfplumber is installed in the project's environment (nor poppler's `pdftotext`), so this
reads just what WeasyPrint produces: Flate streams, ToUnicode CMaps of the embedded font subsets (glyph ids
of one font file, so the maps agree), hex strings shown by `Tj`/`TJ`, and the page tree's `/Count`.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_STREAM = re.compile(rb"\d+ 0 obj\s*<<(.*?)>>\s*stream\r?\n", re.S)
_SHOW = re.compile(rb"\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj|(BT|ET)\b")


@dataclass
class PdfText:
    pages: int
    text: str  # every text block on its own line, pages in order
    page_texts: list[str]


def extract(pdf: bytes) -> PdfText:
    streams = list(_streams(pdf))
    to_unicode: dict[int, str] = {}
    for body in streams:
        if b"begincmap" in body:
            to_unicode.update(_cmap(body))
    pages_count = 0
    page_texts = []
    for body in streams:
        match = re.search(rb"/Type /Pages/Kids \[[^\]]*\]/Count (\d+)", body)
        if match:
            pages_count = int(match.group(1))
        if b" Tf" in body and (b"TJ" in body or b"Tj" in body):
            page_texts.append(_show(body, to_unicode))
    return PdfText(pages_count, "\n".join(page_texts), page_texts)


def _streams(pdf: bytes):
    for match in _STREAM.finditer(pdf):
        length = int(re.search(rb"/Length (\d+)", match.group(1)).group(1))
        raw = pdf[match.end():match.end() + length]
        yield zlib.decompress(raw) if b"FlateDecode" in match.group(1) else raw


def _cmap(body: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", body, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", body, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            first = int(dst, 16)
            for n, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(first + n)
    return mapping


def _show(body: bytes, to_unicode: dict[int, str]) -> str:
    lines, current = [], []
    for array, single, mark in _SHOW.findall(body):
        if mark:
            if current:
                lines.append("".join(current))
            current = []
            continue
        for hexes in re.findall(rb"<([0-9a-fA-F]*)>", array) if array else [single]:
            codes = bytes.fromhex(hexes.decode())
            current.extend(to_unicode.get(int.from_bytes(codes[i:i + 2], "big"), "\ufffd")
                           for i in range(0, len(codes), 2))
    if current:
        lines.append("".join(current))
    return "\n".join(lines)
