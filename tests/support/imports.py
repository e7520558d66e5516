"""Any kind of import through its job: upload to an import route (202), run the queued job here as the worker
would, and read the finished job as `GET /api/v1/imports/{id}` answers it."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.support.customers import run_queued_import


def xlsx(rows) -> bytes:
    """A workbook of `rows` on its first sheet, as uploaded."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def started(client, headers, url: str, name: str, content: bytes, **form):
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
    return await client.post(url, headers=headers, files={"file": (name, content, "application/octet-stream")},
                             data=data)


async def finished(client, headers, response) -> dict:
    """The job a 202 answer names, run to its end and read back by the same caller."""
    assert response.status_code == 202, response.text
    await run_queued_import(response.json()["job_id"])
    job = await client.get(response.json()["url"], headers=headers)
    assert job.status_code == 200, job.text
    return job.json()


async def imported(client, headers, url: str, name: str, content: bytes, **form) -> dict:
    return await finished(client, headers, await started(client, headers, url, name, content, **form))
