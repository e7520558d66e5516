"""Test helpers."""

from __future__ import annotations

import csv
import io

URL = "/api/v1/customers/import"


async def upload(client, headers, name: str, content: bytes, **form):
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
    return await client.post(URL, headers=headers, files={"file": (name, content, "application/octet-stream")},
                             data=data)


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
