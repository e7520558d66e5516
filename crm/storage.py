"""Stored files (complaint attachments): a small adapter, so that the files can move to object storage later.

The filesystem backend keeps each file under `ATTACHMENT_DIR` (default `var/attachments`), named by a random
key — never by the user's file name, which lives only in the database. A file is written in two steps: `receive`
streams the upload into a temporary file (stopping as soon as it passes the size limit), then `keep` moves it to
its key once the caller has checked it; `discard` removes either. The caller keeps the database row and the file
together: `keep` inside the transaction, `discard` when the transaction fails.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio

from crm.settings import get_settings

CHUNK = 64 * 1024
HEAD = 512  # the first bytes of a file, kept to recognise its type


class TooLarge(Exception):
    """The upload passed the size limit; nothing was kept."""


@dataclass
class Received:
    """An upload written to a temporary place: its size, digest and first bytes."""

    key: str
    temp: Path
    size: int
    sha256: str
    head: bytes


class FileStore(Protocol):
    async def receive(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Received: ...
    async def keep(self, received: Received) -> None: ...
    async def discard(self, key: str, received: Received | None = None) -> None: ...
    def read(self, key: str) -> AsyncIterator[bytes]: ...
    def exists(self, key: str) -> bool: ...
    def local_path(self, received: Received) -> Path | None: ...


class FilesystemStore:
    """Files on a local (or mounted) disk: `<root>/<key[:2]>/<key>`, uploads in progress in `<root>/tmp/`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def receive(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Received:
        """Write the chunks to a temporary file, chunk by chunk; `TooLarge` (and nothing left) past `max_bytes`."""
        key = secrets.token_hex(16)
        temp = self.root / "tmp" / f"{key}.part"
        temp.parent.mkdir(parents=True, exist_ok=True)
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            async with await anyio.open_file(temp, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge()
                    if len(head) < HEAD:
                        head += chunk[: HEAD - len(head)]
                    digest.update(chunk)
                    await out.write(chunk)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return Received(key=key, temp=temp, size=size, sha256=digest.hexdigest(), head=head)

    async def keep(self, received: Received) -> None:
        final = self._path(received.key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received.temp, final)

    async def discard(self, key: str, received: Received | None = None) -> None:
        if received is not None:
            received.temp.unlink(missing_ok=True)
        self._path(key).unlink(missing_ok=True)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as source:
            while chunk := await source.read(CHUNK):
                yield chunk

    def local_path(self, received: Received) -> Path | None:
        """Where a received upload can be inspected (e.g. opened as a ZIP) before it is kept."""
        return received.temp

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours (hex); anything else never reaches the disk
            raise ValueError("bad file key")
        return self.root / key[:2] / key


def file_store() -> FileStore:
    settings = get_settings()
    return FilesystemStore(settings.attachment_dir or settings.var_dir / "attachments")
