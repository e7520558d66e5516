"""Reading the spreadsheets of the satisfaction and people imports: XLSX or CSV (UTF-8 or GBK), Chinese or English
headers, read as a stream of rows (openpyxl's read-only mode, a decoding text stream) by the reader of the customer
import, so that a large file is never held in memory whole.

The header row is the first of the top ten rows that names every required column; a title
row above it (as manufacturers and shoppers' agencies put one) is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from crm.customers import importer as stream
from crm.customers.importer import MAX_REPORTED_ERRORS, PROGRESS_ROWS, Progress, RowError  # one shape for every import
from tenants.errors import InvalidInput
from tenants.scope import Scope
from tenants.tables import Store

__all__ = ["MAX_REPORTED_ERRORS", "PROGRESS_ROWS", "Progress", "RowError"]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000


def row_error(row: int, column: str, field: str, zh: str, en: str) -> RowError:
    return RowError(row=row, column=column, field=field, message=f"{zh} / {en}", message_zh=zh, message_en=en)


@dataclass
class Sheet:
    """The data rows of a file by field name, as they are read (`columns`: field → the header as written in the
    file). Used as a context manager: the file is closed at the end."""

    columns: dict[str, str]
    rows: Iterator[tuple[int, dict[str, Any]]]
    close: Callable[[], None]

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_sheet(*, filename: str, content: bytes | BinaryIO, aliases: dict[str, list[str]], required: set[str],
               sheet: str | None = None) -> Sheet:
    """Open CSV or XLSX as a stream, find the header row and map its columns to fields by `aliases`."""
    lookup = {_key(a): name for name, names in aliases.items() for a in [name, *names]}

    def mapped(cells: list[Any]) -> dict[str, int]:
        found: dict[str, int] = {}
        for position, title in enumerate(cells):
            name = lookup.get(_key(title))
            if name is not None and name not in found:
                found[name] = position
        return found

    def find(grid: list[tuple[int, list[Any]]]) -> tuple[int, list[str]] | None:
        return next(((n, [text_of(c) for c in cells]) for n, cells in grid if required <= mapped(cells).keys()), None)

    wanted = sorted(required)
    headers = stream.Headers(find, "、".join(aliases[name][0] for name in wanted), ", ".join(wanted))
    parsed = stream.read_sheet(filename=filename, content=content, sheet=sheet, headers=headers,
                               max_bytes=MAX_FILE_BYTES)
    positions = mapped(parsed.header)
    rows = (
        (n, {name: (values[i] if i < len(values) else None) for name, i in positions.items()})
        for n, values in parsed.rows if any(not _blank(v) for v in values)
    )
    return Sheet({name: parsed.header[i] for name, i in positions.items()}, _at_most(rows), parsed.close)


def check_file(*, filename: str, content: BinaryIO, aliases: dict[str, list[str]], required: set[str],
               sheet: str | None = None) -> None:
    """What can be told of a file before its rows are read (its kind, the header, a first data row): `InvalidInput`
    on `file`. The file is left at its start."""
    with read_sheet(filename=filename, content=content, aliases=aliases, required=required, sheet=sheet) as parsed:
        if next(parsed.rows, None) is None:
            raise no_rows()
    content.seek(0)


def no_rows() -> InvalidInput:
    return file_problem("文件中没有数据行", "The file has no data rows")


def _at_most(rows: Iterator[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
    for count, row in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise file_problem(f"行数超过{MAX_ROWS}行上限", f"More than {MAX_ROWS} rows")
        yield row


async def stores_by_key(actor: Scope) -> dict[str, int]:
    """The caller's stores by code and by name, as a file names them."""
    rows = await Store.select(Store.id, Store.code, Store.name).where(
        Store.group == (actor.group_id or -1), Store.id.is_in(sorted(actor.store_ids) or [-1])
    )
    return {**{r["name"]: r["id"] for r in rows}, **{r["code"]: r["id"] for r in rows}}


def file_problem(zh: str, en: str) -> InvalidInput:
    return InvalidInput.one("file", zh, en)


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def date_of(value: Any) -> date | None:
    """A date cell (Excel date, 2026-11-30, 2026/11/30, 2026年11月30日, 20261130); None if unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s.*)?", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text
    )
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def decimal_of(value: Any) -> Decimal | None:
    """A number cell (1 234.5, 85.2%, ８５) as an exact Decimal; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = text_of(value).translate(_FULL_WIDTH).replace(",", "").replace(" ", "").rstrip("%")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


def _key(title: Any) -> str:
    key = re.sub(r"[(\uff08][^)\uff09]*[)\uff09]", "", text_of(title))
    return re.sub(r"[\s*:\uff1a_\-]", "", key).lower()


def _blank(value: Any) -> bool:
    return value is None or text_of(value) == ""
