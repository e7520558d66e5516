"""From a report's data to its files: HTML from `pdf_templates/`, PDF by WeasyPrint in a child process, XLSX.

WeasyPrint is CPU-bound and keeps memory after large documents, so the PDF is made in a separate process
(`ProcessPoolExecutor`, a child replaced after `TASKS_PER_CHILD` reports): the worker's event loop and
its other jobs never wait on it, and its memory does not grow over a monthly pack. Importing WeasyPrint
and loading the CJK font take seconds — more than a report — so the children are forked from a
forkserver that did both once (`crm.reports.render_child`, `warm`): a new or replaced child starts warm,
and the worker process itself never loads WeasyPrint.

Files are stored once, named by their content hash under `DEALERDESK_VAR/reports/`, written to a temporary
file and renamed into place, so a half-written file is never served.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
import os
import re
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from crm.settings import get_settings

TEMPLATES = Path(__file__).resolve().parents[2] / "pdf_templates"
TASKS_PER_CHILD = 20
WATCH_SECONDS = 2  # how soon a child notices its worker is gone
CHILD_MODULE = "crm.reports.render_child"  # imported by the forkserver: WeasyPrint loaded and warm
WARM_UP = ('<html><head><link rel="stylesheet" href="report.css"></head><body><h1>月报表</h1>'
           '<table><thead><tr><th>指标</th></tr></thead><tbody><tr><td>回访率 12.5%</td></tr></tbody></table>'
           '</body></html>')
FIGURE = re.compile(r"—|-?[\d,]+(\.\d+)?%?")  # a cell right-aligned as a number
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_environment: Environment | None = None
_fonts: Any = None


def html_for(template: str, data: dict[str, Any], *, title: str, generated_at: datetime) -> str:
    """The finished HTML of a report (what WeasyPrint lays out)."""
    global _environment
    if _environment is None:
        _environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        _environment.tests["figure"] = lambda cell: bool(FIGURE.fullmatch(str(cell)))
    return _environment.get_template(template).render(
        title=title, generated=generated_at.strftime("%Y-%m-%d %H:%M"), **data)


async def pdf_for(html: str) -> tuple[bytes, int]:
    """The PDF of `html` and its page count, rendered in the child process."""
    return await (await start_pdf(html))


async def start_pdf(html: str) -> asyncio.Future[tuple[bytes, int]]:
    """Hands `html` to the child process; the future is its PDF and page count.

    Submitted from a thread: the first submission waits for the forkserver to load WeasyPrint."""
    return asyncio.wrap_future(await asyncio.to_thread(renderer().submit, render_pdf, html))


def renderer(processes: int = 1) -> ProcessPoolExecutor:
    """The pool of render children (made on first use, or by `start_renderer`)."""
    global _pool
    with _pool_lock:  # the worker's start-up thread and a first report may ask at once
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([CHILD_MODULE])
            _pool = ProcessPoolExecutor(max_workers=processes, mp_context=context,
                                        max_tasks_per_child=TASKS_PER_CHILD, initializer=_end_with_worker,
                                        initargs=(os.getpid(),))
        return _pool


def start_renderer(processes: int = 1) -> None:
    """Start the warm forkserver and the children now rather than on the first report (the benchmark's
    stand-in for long-running workers). Blocks while the forkserver loads WeasyPrint: call it from a thread."""
    pool = renderer(processes)
    for ready in [pool.submit(warm) for _ in range(processes)]:
        ready.result()


def shutdown_renderer() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(cancel_futures=True)
        _pool = None


def _end_with_worker(worker: int) -> None:
    """In each child: exit once the worker that asked for it is gone. A killed worker would otherwise leave its
    children (forked from the forkserver, not from it) waiting for work forever, holding memory and its pipes."""

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="render-child-watch", daemon=True).start()


def render_pdf(html: str) -> tuple[bytes, int]:
    """Runs in the child: WeasyPrint's render with the one font configuration the forkserver made."""
    from weasyprint import HTML

    warm()
    document = HTML(string=html, base_url=str(TEMPLATES)).render(font_config=_fonts)
    return document.write_pdf(), len(document.pages)


def warm() -> None:
    """WeasyPrint imported, its font configuration made and the CJK font laid out, once per process."""
    global _fonts
    if _fonts is None:
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration

        _fonts = FontConfiguration()
        HTML(string=WARM_UP, base_url=str(TEMPLATES)).render(font_config=_fonts).write_pdf()


def xlsx_for(data: dict[str, Any], *, title: str, generated_at: datetime) -> bytes:
    """The same tables as the PDF, one sheet each, with the report's header line on top."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for n, table in enumerate(data["tables"], start=1):
        name = table["title"].replace("：", "-")[:28]
        sheet = book.create_sheet(name if name not in used else f"{name[:25]}{n}")
        used.add(sheet.title)
        sheet.append([f"{title}｜{data['group_name']} {data['store_name']}｜{data['period']}｜"
                      f"生成时间 {generated_at:%Y-%m-%d %H:%M}"])
        sheet.append(table["columns"])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for i, row in enumerate(table["rows"]):
            sheet.append(row)
            if i in table["highlight"]:
                for cell in sheet[sheet.max_row]:
                    cell.fill = PatternFill("solid", fgColor="FDE2E1")
        sheet.freeze_panes = "A3"
        for letter, width in zip("ABCDEFGHIJKLMNOP", _widths(table)):
            sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def store_report_files(pdf: bytes, xlsx: bytes) -> tuple[str, str]:
    """Both files of a report stored, once the PDF has come out (a failed render leaves no file behind); their
    hashes. Run in a thread: storing waits for the disk."""
    return store_file(pdf, "pdf"), store_file(xlsx, "xlsx")


def store_file(content: bytes, suffix: str) -> str:
    """Keep `content` under its sha256 (once); returns the hash."""
    digest = hashlib.sha256(content).hexdigest()
    path = file_path(digest, suffix)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return digest


def file_path(digest: str, suffix: str) -> Path:
    return get_settings().var_dir / relative_path(digest, suffix)


def relative_path(digest: str, suffix: str) -> str:
    """A stored file's place under DEALERDESK_VAR."""
    return f"reports/{digest[:2]}/{digest}.{suffix}"


def _widths(table: dict[str, Any]) -> list[int]:
    widths = []
    for i, header in enumerate(table["columns"]):
        longest = max([len(header), *(len(str(row[i])) for row in table["rows"])])
        widths.append(min(max(8, 2 * longest + 2), 60))
    return widths
