"""Reading the spreadsheets of the satisfaction imports: XLSX or CSV (UTF-8 or GBK), Chinese or English headers.

The header row is the first of the top ten rows that names every required column; a title
row above it (as manufacturers and shoppers' agencies put one) is skipped.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


from crm.customers.importer import RowError  # one row-error shape for every import
from tenants.errors import InvalidInput
from tenants.scope import Scope
from tenants.tables import Store

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000


def row_error(row: int, column: str, field: str, zh: str, en: str) -> RowError:
    return RowError(row=row, column=column, field=field, message=f"{zh} / {en}", message_zh=zh, message_en=en)


@dataclass
class Sheet:
    """The data rows of a file by field name (`columns`: field → the header as written in the file)."""

    columns: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


def read_sheet(*, filename: str, content: bytes, aliases: dict[str, list[str]], required: set[str]) -> Sheet:
    """Decode CSV or XLSX, find the header row and map its columns to fields by `aliases`."""
    if len(content) > MAX_FILE_BYTES:
        raise file_problem("文件超过10MB上限", "The file is larger than 10 MB")
    if not content.strip():
        raise file_problem("文件为空", "The file is empty")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise file_problem("不支持旧版Excel(.xls)文件，请另存为.xlsx或CSV", "Old Excel (.xls) files are not supported; save as .xlsx or CSV")
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        grid = _xlsx_grid(content)
    else:
        grid = _csv_grid(content)
    lookup = {_key(a): name for name, names in aliases.items() for a in [name, *names]}
    for number, cells in grid[:10]:
        mapped: dict[str, int] = {}
        for position, title in enumerate(cells):
            name = lookup.get(_key(title))
            if name is not None and name not in mapped:
                mapped[name] = position
        if required <= mapped.keys():
            rows = [
                (n, {name: (values[i] if i < len(values) else None) for name, i in mapped.items()})
                for n, values in grid
                if n > number and any(_blank(v) is False for v in values)
            ]
            if len(rows) > MAX_ROWS:
                raise file_problem(f"行数超过{MAX_ROWS}行上限", f"More than {MAX_ROWS} rows")
            return Sheet({name: str(cells[i]).strip() for name, i in mapped.items()}, rows)
    wanted = "、".join(aliases[name][0] for name in sorted(required))
    raise file_problem(f"未找到必需的列标题：{wanted}", f"Required column headers not found: {', '.join(sorted(required))}")


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


def _xlsx_grid(content: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise file_problem("无法读取XLSX文件：文件已损坏或不是Excel(.xlsx)文件", "Cannot read the XLSX file") from None
    except Exception:  # openpyxl raises many kinds on malformed parts; all mean "broken file"
        raise file_problem("无法读取XLSX文件：文件内容有误", "Cannot read the XLSX file") from None
    try:
        sheet = workbook[workbook.sheetnames[0]]
        return [(n, list(values)) for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    except Exception:
        raise file_problem("XLSX工作表内容损坏", "A sheet of the XLSX file is damaged") from None
    finally:
        workbook.close()


def _csv_grid(content: bytes) -> list[tuple[int, list[Any]]]:
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise file_problem("无法识别文件编码（支持UTF-8和GBK）", "Unknown text encoding (UTF-8 and GBK are supported)")
    try:
        return [(n, cells) for n, cells in enumerate(csv.reader(io.StringIO(text)), start=1)]
    except csv.Error as error:
        raise file_problem("CSV文件格式错误", f"Malformed CSV: {error}") from None
