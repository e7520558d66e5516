"""Import of DMS exports (经销商管理系统导出): customers, vehicles, deliveries and service visits.

A DMS exports one row per customer, per vehicle sale or per repair order, with
Chinese (客户姓名, 手机, 车架号, 交车日期, 工单号, 离站时间 …) or English
headers, as CSV (UTF-8 or GBK, often with a BOM) or XLSX. One importer reads
them all: each row names a customer, optionally a vehicle (by VIN), and a
delivery and/or a service visit of that vehicle.

Rules:
- Every row is checked with the same rules as manual entry (`fields.clean_*`);
  each problem is reported with its spreadsheet row number, column and a
  Chinese and English message.
- A file with any row error writes nothing unless the caller accepts importing
  the valid rows. A file that cannot be read at all (not an XLSX, no sheet with
  recognisable headers, undecodable text) is a 400 on `file`.
- Re-importing a file creates no duplicates: deliveries are matched by order
  number (订单号), visits by repair-order number (工单号), vehicles by VIN per
  store, customers by DMS customer number, ID number or mobile per store. A
  matched record only gets its blank fields filled, never overwritten.
- Everything is written in one transaction; new deliveries and visits fire their
  signals inside it, like manual entry. Large files are imported by a background
  job (`crm.imports`), which calls `import_file` on the kept file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import msgspec
from piccolo.columns import JSON, JSONB
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from crm import clock
from crm.customers import events, fields, service
from crm.customers.history import Author, record_changes
from crm.customers.identity import choose_identity, complete_identity, identity_candidates
from crm.customers.tables import Customer, CustomerIdentity, Sale, ServiceVisit, Vehicle
from crm.customers.locks import lock_keys
from crm.customers.tx import transaction
from crm.privacy import vault
from crm.db import engine, is_postgres
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope, timezone_of

# Who may bulk-import DMS exports.
IMPORTERS = frozenset({Role.GROUP_ADMIN, Role.STORE_GM, Role.STORE_CR_MANAGER})
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000


class RowError(msgspec.Struct, kw_only=True):
    """One problem of one row; `row` is the spreadsheet's row number (header row included)."""

    row: int
    column: str
    field: str
    message: str
    message_zh: str
    message_en: str


class Counts(msgspec.Struct, kw_only=True):
    customers: int = 0
    vehicles: int = 0
    sales: int = 0
    visits: int = 0


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import found and did. `imported` is false when nothing was written."""

    filename: str
    format: str
    encoding: str
    sheet: str
    header_row: int
    rows_total: int
    rows_valid: int
    rows_with_errors: int
    imported: bool
    created: Counts
    updated: Counts
    unchanged: Counts
    unknown_columns: list[str]
    errors: list[RowError]

    def counts(self) -> tuple[int, int, int]:
        """Rows read, imported and refused: the import job's counts."""
        return self.rows_total, self.rows_valid if self.imported else 0, self.rows_with_errors


# The report keeps the first problems of a file; the counts cover them all.
MAX_REPORTED_ERRORS = 200
# A long import tells how far it got every so many rows.
PROGRESS_ROWS = 500

Progress = Callable[[int, int, int], Awaitable[None]]  # rows read, accepted, rejected so far


async def import_file(
    *,
    actor: Scope,
    store_id: int | None,
    filename: str,
    content: bytes | BinaryIO,
    accept_valid_rows: bool = False,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, check and (when clean, or when asked to take the valid rows) import a DMS export.

    `content` is the file's bytes or, better, the file itself: it is then read as a stream, row by row, and
    never held in memory whole (neither its bytes nor its decoded text nor its grid of cells). The file is
    read twice: once to check every row (nothing written: a file with a bad row and without
    `accept_valid_rows` must write nothing, which is known only at its end), then again to write the valid
    rows in one transaction — all of them or, on any failure, none. `progress` hears the counts every
    `PROGRESS_ROWS` rows of either pass.
    """
    actor.require_role(*IMPORTERS)
    store = service.writable_store(actor, store_id)
    tz = await timezone_of(store=store.id)
    report = ImportReport(
        filename=filename, format="", encoding="", sheet="", header_row=0, rows_total=0, rows_valid=0,
        rows_with_errors=0, imported=False, created=Counts(), updated=Counts(), unchanged=Counts(),
        unknown_columns=[], errors=[],
    )
    with read_sheet(filename=filename, content=content, sheet=sheet) as parsed:
        columns = _map_columns(parsed.header)
        report.format, report.encoding, report.sheet = parsed.format, parsed.encoding, parsed.sheet
        report.header_row, report.unknown_columns = parsed.header_row, columns.unknown
        for _, problems in _checked_rows(parsed, columns, tz):
            report.rows_total += 1
            if problems:
                report.rows_with_errors += 1
                report.errors.extend(problems[:MAX_REPORTED_ERRORS - len(report.errors)])
            else:
                report.rows_valid += 1
            if progress is not None and report.rows_total % PROGRESS_ROWS == 0:
                await progress(report.rows_total, 0, report.rows_with_errors)
    if report.rows_total == 0:
        raise _file_problem("文件中没有数据行", "The file has no data rows")
    if progress is not None:
        await progress(report.rows_total, 0, report.rows_with_errors)
    if report.rows_with_errors and not accept_valid_rows:
        return report
    async with transaction():
        with read_sheet(filename=filename, content=content, sheet=sheet) as parsed:
            rows = (row for row, problems in _checked_rows(parsed, _map_columns(parsed.header), tz) if not problems)
            await _Writer(store, report, Author.of(actor)).write(rows, progress=progress)
    report.imported = True
    return report


def check_file(*, filename: str, content: BinaryIO, sheet: str | None = None) -> None:
    """What can be told of a file at once, before its rows are read: that it can be read at all (its kind,
    a sheet with recognisable headers, the columns needed) and has a data row. `InvalidInput` on `file`."""
    with read_sheet(filename=filename, content=content, sheet=sheet) as parsed:
        _map_columns(parsed.header)
        if not any(any(_cell_text(c) for c in cells) for _, cells in itertools.islice(parsed.rows, 1000)):
            raise _file_problem("文件中没有数据行", "The file has no data rows")
    content.seek(0)


def _checked_rows(parsed: Sheet, columns: _Columns, tz: ZoneInfo) -> Iterator[tuple[_Row, list[RowError]]]:
    """Every non-empty row, checked: the row and its problems (none when it may be written)."""
    count = 0
    for number, cells in parsed.rows:
        if not any(_cell_text(c) for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise _file_problem(f"文件行数超过上限 {MAX_ROWS}", f"More than {MAX_ROWS} rows")
        yield _parse_row(number, cells, columns, tz)


@dataclass
class Sheet:
    """A sheet being read from the file: the header, and the data rows with their spreadsheet numbers as they
    are read (an iterator). Used as a context manager: the file is closed at the end."""

    format: str
    encoding: str
    sheet: str
    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    close: Callable[[], None] = lambda: None

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class Headers:
    """How a kind of file's header row is found among its top rows, and the columns to name when none is."""

    find: Callable[[list[tuple[int, list[Any]]]], tuple[int, list[str]] | None]  # (row number, header) or None
    examples_zh: str
    examples_en: str


def read_sheet(*, filename: str, content: bytes | BinaryIO, sheet: str | None = None, headers: Headers | None = None,
               max_bytes: int = MAX_FILE_BYTES) -> Sheet:
    """Open CSV or XLSX as a stream of rows, finding the header row (DMS exports often put a title above it).
    `headers` tells another kind of file's header (the satisfaction and people imports read their sheets here)."""
    headers = headers or _DMS_HEADERS
    source = io.BytesIO(content) if isinstance(content, bytes) else content
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    if size > max_bytes:
        megabytes = max_bytes // (1024 * 1024)
        raise _file_problem(f"文件超过{megabytes}MB上限", f"The file is larger than {megabytes} MB")
    head = source.read(_HEAD_BYTES)
    source.seek(0)
    if not head.strip() and size <= _HEAD_BYTES:
        raise _file_problem("文件为空", "The file is empty")
    name = filename.lower()
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_problem(
            "不支持旧版Excel(.xls)文件，请另存为.xlsx或CSV", "Old Excel (.xls) files are not supported; save as .xlsx or CSV"
        )
    if head.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(source, sheet, headers)
    return _read_csv(source, headers)


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------

# The first bytes tell the kind of file; the first rows hold the header.
_HEAD_BYTES = 64 * 1024
_HEADER_ROWS = 10


def _read_xlsx(source: BinaryIO, wanted: str | None, headers: Headers) -> Sheet:
    """openpyxl in read-only mode: rows are parsed from the zipped XML as they are asked for."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise _file_problem(
            "无法读取XLSX文件：文件已损坏或不是Excel(.xlsx)文件",
            f"Cannot read the XLSX file: it is damaged or not an Excel (.xlsx) file ({type(error).__name__})",
        ) from None
    except Exception as error:  # openpyxl raises many kinds on malformed parts; all mean "broken file"
        raise _file_problem(
            "无法读取XLSX文件：文件内容有误", f"Cannot read the XLSX file ({type(error).__name__})"
        ) from None
    try:
        names = list(workbook.sheetnames)
        if wanted is not None and wanted not in names:
            raise _file_problem(
                f"工作表“{wanted}”不存在，文件中的工作表：{'、'.join(names)}",
                f"No sheet named {wanted!r}; the sheets are: {', '.join(names)}",
            )
        for sheet_name in [wanted] if wanted else names:
            cells = _damaged_sheet_is_a_problem(
                (number, list(values))
                for number, values in enumerate(workbook[sheet_name].iter_rows(values_only=True), start=1)
            )
            top = list(itertools.islice(cells, _HEADER_ROWS))
            found = headers.find(top)
            if found is not None:
                header_row, header = found
                data = itertools.chain(((n, c) for n, c in top if n > header_row), cells)
                return Sheet("xlsx", "", sheet_name, header_row, header, data, workbook.close)
        raise _file_problem(
            f"工作表中未找到可识别的列标题（如 {headers.examples_zh}），工作表：{'、'.join(names)}",
            f"No sheet has recognisable column headers (e.g. {headers.examples_en}); sheets: {', '.join(names)}",
        )
    except BaseException:
        workbook.close()
        raise


def _damaged_sheet_is_a_problem(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from rows
    except Exception:
        raise _file_problem("XLSX工作表内容损坏", "A sheet of the XLSX file is damaged") from None


def _read_csv(source: BinaryIO, headers: Headers) -> Sheet:
    """The csv module on a text stream decoded as it is read."""
    encoding = _encoding(source)
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    first_line = text.readline()
    text.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(first_line or ",", delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = _csv_rows(csv.reader(text, dialect))
    top = list(itertools.islice(rows, _HEADER_ROWS))
    found = headers.find(top)
    if found is None:
        raise _file_problem(f"未找到可识别的列标题（如 {headers.examples_zh}）",
                            f"No recognisable column headers (e.g. {headers.examples_en})")
    header_row, header = found
    data = itertools.chain(((n, c) for n, c in top if n > header_row), rows)
    return Sheet("csv", "gbk" if encoding == "gb18030" else encoding, "", header_row, header, data, text.detach)


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as error:
        raise _file_problem("CSV文件格式错误", f"Malformed CSV: {error}") from None
    except UnicodeDecodeError:
        raise _file_problem("无法识别文件编码（支持UTF-8和GBK）",
                            "Unknown text encoding (UTF-8 and GBK are supported)") from None


def _encoding(source: BinaryIO) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GBK/GB18030: the whole file is
    checked as UTF-8 a chunk at a time (nothing kept), since a GBK file may look like UTF-8 for its first rows."""
    head = source.read(4)
    source.seek(0)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := source.read(_HEAD_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        source.seek(0)


def _find_header(grid: list[tuple[int, list[Any]]]) -> tuple[int, list[str]] | None:
    """The first of the top rows naming at least two known columns, one of them identifying a record."""
    for number, cells in grid[:_HEADER_ROWS]:
        header = [_cell_text(c) for c in cells]
        known = {_ALIASES.get(_header_key(h)) for h in header} - {None}
        if len(known) >= 2 and known & {"name", "mobile", "vin", "id_number", "dms_ref"}:
            return number, header
    return None


_DMS_HEADERS = Headers(_find_header, "客户姓名、手机、车架号", "name, mobile, VIN")


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass
class _Columns:
    """Which cell holds which field, and the headers nobody knows."""

    index: dict[str, int]
    headers: dict[str, str]
    unknown: list[str] = field(default_factory=list)


def _map_columns(header: list[str]) -> _Columns:
    columns = _Columns(index={}, headers={})
    for position, title in enumerate(header):
        if not title:
            continue
        target = _ALIASES.get(_header_key(title))
        if target is None or target in columns.index:
            columns.unknown.append(title)
            continue
        columns.index[target] = position
        columns.headers[target] = title
    if "name" not in columns.index:
        raise _file_problem("缺少“客户姓名”列", "The file has no customer name column (客户姓名 / name)")
    if not columns.index.keys() & {"mobile", "id_number", "dms_ref"}:
        raise _file_problem(
            "缺少“手机”“证件号”或“客户编号”列之一", "The file needs a mobile, ID number or customer number column"
        )
    if columns.index.keys() & {"delivered_at", "order_no", "left_at", "repair_order_no"} and "vin" not in columns.index:
        raise _file_problem("交车或维修记录需要“车架号/VIN”列", "Sales and visits need a VIN column (车架号)")
    return columns


def _header_key(title: str) -> str:
    """Header text as compared with the aliases: no spaces, marks of required fields or remarks in brackets."""
    key = re.sub(r"[(\uff08][^)\uff09]*[)\uff09]", "", str(title))
    key = re.sub(r"[\s*:\uff1a_\-]", "", key).lower()
    return key


# A column header → the field it holds (the headers are defined with the fields).
_ALIASES = {_header_key(header): f.name for f in fields.FIELDS for header in f.headers}
_COLUMNS = {record: {f.name for f in fields.fields_of(record) if f.headers}
            for record in ("customer", "vehicle", "sale", "visit")}
_FIELD_KINDS = {f.name: f.kind for f in fields.FIELDS}

_KIND_WORDS = {"个人": "private", "私人": "private", "private": "private", "personal": "private",
               "单位": "company", "公司": "company", "企业": "company", "company": "company", "corporate": "company"}
_GENDER_WORDS = {"男": "male", "女": "female", "m": "male", "f": "female", "male": "male", "female": "female"}
_MARITAL_WORDS = {"未婚": "single", "已婚": "married", "离异": "divorced", "离婚": "divorced", "丧偶": "widowed",
                  "single": "single", "married": "married", "divorced": "divorced", "widowed": "widowed"}
_CODED = {"kind": _KIND_WORDS, "gender": _GENDER_WORDS, "marital_status": _MARITAL_WORDS}
_REPAIR_WORDS = [
    (("首保", "定保", "保养", "maintenance"), "maintenance"),
    (("保修", "索赔", "三包", "warranty"), "warranty"),
    (("事故", "钣喷", "钣金", "喷漆", "accident"), "accident"),
    (("维修", "机修", "电修", "repair"), "repair"),
]


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    customer: dict
    vehicle: dict | None
    sale: dict | None
    visit: dict | None


def _parse_row(number: int, cells: list[Any], columns: _Columns, tz: ZoneInfo) -> tuple[_Row, list[RowError]]:
    """One row checked by the service's own rules; every problem names its column.

    A row is a delivery when it has a delivery date or an order number, a visit
    when it has a departure time or a repair-order number; other sale or visit
    columns alone (a customer list with its 销售顾问, say) make no record.
    """
    problems: list[FieldProblem] = []
    values = _typed_values(cells, columns, tz, problems)
    kind = values.get("kind") or _guess_kind(values.get("name", ""))
    customer = {**_part(values, _COLUMNS["customer"]), "kind": kind, "source": "import"}
    vehicle = _part(values, _COLUMNS["vehicle"])
    sale = _part(values, _COLUMNS["sale"]) if _has_any(values, "delivered_at", "order_no") else {}
    visit = _part(values, _COLUMNS["visit"]) if _has_any(values, "left_at", "repair_order_no") else {}
    if not customer.get("name"):
        problems.append(FieldProblem("name", "缺少客户姓名", "The customer name is missing"))
    if not _has_any(customer, "mobile", "id_number", "dms_ref"):
        problems.append(
            FieldProblem("mobile", "需要手机、证件号或客户编号之一", "A mobile, ID number or customer number is needed")
        )
    if (sale or visit) and not vehicle.get("vin"):
        problems.append(FieldProblem("vin", "交车或维修记录缺少车架号", "A sale or visit needs the VIN"))
    for record, when, zh, en in (
        (sale, "delivered_at", "缺少交车日期", "The delivery date is missing"),
        (visit, "left_at", "缺少离站时间", "The departure time is missing"),
    ):
        if record and when not in record and when not in {p.field for p in problems}:
            problems.append(FieldProblem(when, zh, en))
    row = _Row(number, _checked(problems, fields.clean_customer, customer, kind=kind), None, None, None)
    if vehicle.get("vin"):
        row.vehicle = _checked(problems, fields.clean_vehicle, {**vehicle, "source": "import"})
    if sale.get("delivered_at"):
        row.sale = _checked(problems, fields.clean_sale, {**sale, "source": "import"})
    if visit.get("left_at"):
        row.visit = _checked(problems, fields.clean_visit, {**visit, "source": "import"})
    return row, _row_errors(number, problems, columns)


def _typed_values(cells: list[Any], columns: _Columns, tz: ZoneInfo, problems: list[FieldProblem]) -> dict:
    """The row's cells as Python values per field: dates, aware instants, numbers, codes, text."""
    values: dict[str, Any] = {}
    for key, position in columns.index.items():
        value = cells[position] if position < len(cells) else None
        try:
            if _FIELD_KINDS[key] == "date":
                values[key] = _to_date(value)
            elif _FIELD_KINDS[key] == "instant":
                values[key] = _to_instant(value, tz)
            elif _FIELD_KINDS[key] in ("money", "mileage"):
                values[key] = _to_number(value)
            elif key in _CODED:
                values[key] = _word(value, _CODED[key])
            elif key == "repair_type":
                values[key] = _repair_type(value)
            else:
                values[key] = _cell_text(value, phone=key in ("mobile", "phone2", "id_number"))
        except _CellError as error:
            problems.append(FieldProblem(key, error.zh, error.en))
    return values


def _row_errors(number: int, problems: list[FieldProblem], columns: _Columns) -> list[RowError]:
    """Problems of one row as report lines, each once, with the column header the user sees."""
    seen: set[tuple[str, str]] = set()
    errors = []
    for p in problems:
        if (p.field, p.en) in seen:
            continue
        seen.add((p.field, p.en))
        errors.append(
            RowError(
                row=number, column=columns.headers.get(p.field, ""), field=p.field,
                message=f"{p.zh} / {p.en}", message_zh=p.zh, message_en=p.en,
            )
        )
    return errors


def _has_any(values: dict, *keys: str) -> bool:
    return any(values.get(k) not in (None, "") for k in keys)


def _part(values: dict, keys: set[str]) -> dict:
    return {k: v for k, v in values.items() if k in keys and v not in (None, "")}


def _checked(problems: list[FieldProblem], clean, values: dict, **kwargs) -> dict:
    """The cleaned values, or {} with the problems collected (the row is rejected anyway)."""
    try:
        return clean(values, **kwargs)
    except InvalidInput as error:
        problems.extend(error.problems)
        return {}


class _CellError(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _cell_text(value: Any, phone: bool = False) -> str:
    """A cell as text; spreadsheets turn long digit strings into floats (13800138000.0), undo that."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    text = str(value).strip()
    if phone:
        text = text.lstrip("'")
    return text


def _word(value: Any, words: dict[str, str]) -> str:
    text = _cell_text(value).lower()
    return words.get(text, text)


def _repair_type(value: Any) -> str:
    text = _cell_text(value).lower()
    if not text:
        return ""
    for needles, code in _REPAIR_WORDS:
        if any(n in text for n in needles):
            return code
    return text if text in fields.REPAIR_TYPES else "other"


def _guess_kind(name: str) -> str:
    """DMS exports often have no customer-type column; a registered company name says it."""
    return "company" if re.search(r"(公司|有限|集团|厂|研究院|事务所)$|有限公司", name or "") else "private"


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M")


def _to_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    # A time part after a date ("2025-03-01 00:00:00") is common in exports of date columns.
    head = text.split(" ")[0].split("T")[0]
    if head != text:
        return _to_date(head)
    raise _CellError("日期格式错误，应为 2025-03-01", "Not a date; use 2025-03-01")


def _to_instant(value: Any, tz: ZoneInfo) -> datetime | None:
    """A time as an aware instant; times without a zone are the store's local time, dates its midnight."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        moment = _parse_moment(_cell_text(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _parse_moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for date_format in _DATE_FORMATS:
        for time_format in ("", *_TIME_FORMATS):
            fmt = f"{date_format} {time_format}".strip()
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise _CellError("时间格式错误，应为 2025-03-01 14:30", "Not a date-time; use 2025-03-01 14:30")


def _to_number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    text = re.sub(r"[\u00a5\uffe5,\uff0c元\s]|公里|km", "", _cell_text(value), flags=re.IGNORECASE)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _CellError("数字格式错误", "Not a number") from None


def _file_problem(zh: str, en: str) -> InvalidInput:
    return InvalidInput.one("file", zh, en)




# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


class _Writer:
    """Writes checked rows into one store, matching what exists so that nothing is created twice.

    Two passes. The first walks the rows in memory against the store's keys
    (loaded once): a row matching an existing record fills that record's
    blanks; anything new becomes a pending record, which later rows of the
    file match too (a customer on many rows is one customer). The second pass
    inserts the pending records in batches — identities, customers, vehicles,
    then deliveries and visits — and fires the signals of the new ones.
    """

    plain_insert = True  # PostgreSQL: plain INSERT statements (False: Piccolo's insert; the benchmark compares)

    def __init__(self, store: service.StoreRef, report: ImportReport, author: Author) -> None:
        self.store = store
        self.author = author
        self.report = report
        self.customers: dict[tuple[str, str], dict] = {}  # (key, value) → existing row or pending record
        self.vehicles: dict[str, dict] = {}  # VIN → existing row or pending record
        self.documents: dict[type, set[tuple]] = {Sale: set(), ServiceVisit: set()}
        self.pending: dict[type, list[dict]] = {Customer: [], Vehicle: [], Sale: [], ServiceVisit: []}
        self.seen: set[int] = set()  # id() of existing rows already counted in this import

    async def write(self, rows: Iterable[_Row], progress: Progress | None = None) -> None:
        # Two imports into one store at once would both miss each other's rows: one at a time.
        await lock_keys(f"import:{self.store.id}")
        await self._load()
        report = self.report
        for number, row in enumerate(rows, start=1):
            if progress is not None and number % PROGRESS_ROWS == 0:
                await progress(report.rows_total, number, report.rows_with_errors)
            customer = await self._customer(row.customer)
            vehicle = await self._vehicle(row.vehicle, customer) if row.vehicle else None
            if vehicle is not None and row.sale is not None:
                keys = _sale_keys(row.sale.get("order_no", ""), vehicle, row.sale["delivered_at"])
                self._document(Sale, keys, row.sale, customer, vehicle, "sales")
            if vehicle is not None and row.visit is not None:
                keys = _visit_keys(row.visit.get("repair_order_no", ""), vehicle, row.visit["left_at"])
                self._document(ServiceVisit, keys, row.visit, customer, vehicle, "visits")
        await self._link_identities()
        for table in (Customer, Vehicle, Sale, ServiceVisit):
            await self._insert(table)
        group_id, store_id = self.store.group_id, self.store.id
        for sale in self.pending[Sale]:
            await events.sale_recorded.send(group_id=group_id, store_id=store_id, sale_id=sale["id"])
        for visit in self.pending[ServiceVisit]:
            await events.visit_recorded.send(group_id=group_id, store_id=store_id, visit_id=visit["id"])

    async def _load(self) -> None:
        store = Scope.system(self.store.group_id, self.store.id)  # checked by service.writable_store
        customers = await store.select(Customer).where(Customer.active.eq(True))
        for customer in sorted(customers, key=lambda c: c["id"], reverse=True):
            self._remember_customer(customer)  # newest first: the oldest profile wins a key, as in `service`
        for vehicle in await store.select(Vehicle).where(Vehicle.active.eq(True)):
            self.vehicles[vehicle["vin"]] = vehicle
        for sale in await store.select(Sale, Sale.order_no, Sale.vehicle, Sale.delivered_at).where(
            Sale.cancelled_at.is_null()
        ):
            self.documents[Sale] |= _sale_keys(sale["order_no"], {"id": sale["vehicle"]}, sale["delivered_at"])
        for visit in await store.select(
            ServiceVisit, ServiceVisit.repair_order_no, ServiceVisit.vehicle, ServiceVisit.left_at
        ).where(ServiceVisit.cancelled_at.is_null()):
            self.documents[ServiceVisit] |= _visit_keys(
                visit["repair_order_no"], {"id": visit["vehicle"]}, visit["left_at"]
            )

    def _remember_customer(self, customer: dict) -> None:
        for key in ("dms_ref", "id_number", "mobile"):
            if customer.get(key):
                self.customers[(key, customer[key])] = customer

    async def _customer(self, values: dict) -> dict:
        for key in ("dms_ref", "id_number", "mobile"):
            found = self.customers.get((key, values.get(key, "")))
            if found is not None:
                await self._fill_blanks(Customer, found, values, "customers")
                self._remember_customer(found)
                return found
        customer = dict(values)
        fields.fill_from_id_number(customer, customer)
        self.pending[Customer].append(customer)
        self._remember_customer(customer)
        self.report.created.customers += 1
        return customer

    async def _vehicle(self, values: dict, customer: dict) -> dict:
        found = self.vehicles.get(values["vin"])
        if found is not None:
            await self._fill_blanks(Vehicle, found, values, "vehicles")
            return found
        vehicle = {**values, "customer": customer}
        self.pending[Vehicle].append(vehicle)
        self.vehicles[values["vin"]] = vehicle
        self.report.created.vehicles += 1
        return vehicle

    def _document(self, table, keys: set[tuple], values: dict, customer: dict, vehicle: dict, counter: str) -> None:
        """A delivery or visit is new unless one of its keys is known (from the store or earlier rows)."""
        if keys & self.documents[table]:
            setattr(self.report.unchanged, counter, getattr(self.report.unchanged, counter) + 1)
            return
        self.documents[table] |= keys
        self.pending[table].append({**values, "customer": customer, "vehicle": vehicle})
        setattr(self.report.created, counter, getattr(self.report.created, counter) + 1)

    async def _fill_blanks(self, table: type[Table], existing: dict, values: dict, counter: str) -> None:
        """A matched record only gets the fields it lacks: the store's own corrections are never overwritten.

        Mobile and ID number are left alone: they key the group identity, and
        re-keying it belongs to an edit by a person, not to a bulk import.
        """
        blanks = {
            k: v for k, v in values.items()
            if k not in _NEVER_FILLED and v not in (None, "") and existing.get(k) in (None, "")
        }
        before = {k: existing.get(k) for k in blanks}
        existing.update(blanks)
        if "id" not in existing:
            return  # a record of this file, not inserted yet: it simply carries the values
        first_time = id(existing) not in self.seen
        self.seen.add(id(existing))
        if blanks:
            is_vehicle = table is Vehicle
            await record_changes(
                row={**before, "group": self.store.group_id, "store": self.store.id}, values=blanks, via="import",
                author=self.author, customer_id=existing["customer"] if is_vehicle else existing["id"],
                vehicle_id=existing["id"] if is_vehicle else None,
            )
            store = Scope.system(self.store.group_id, self.store.id)
            await store.update(table, {**blanks, "updated_at": clock.now()}, use_auto_update=False).where(
                table.id == existing["id"]
            )
            setattr(self.report.updated, counter, getattr(self.report.updated, counter) + 1)
        elif first_time:
            setattr(self.report.unchanged, counter, getattr(self.report.unchanged, counter) + 1)

    async def _link_identities(self) -> None:
        """Each new customer joins the group identity its keys match, by the service's own rule;
        identities still missing are created in one batch."""
        customers = self.pending[Customer]
        if not customers:
            return
        group_id = self.store.group_id
        known = await identity_candidates(
            group_id,
            mobiles={c.get("mobile", "") for c in customers},
            id_numbers={c.get("id_number", "") for c in customers},
        )
        by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)

        def index(identity: dict) -> None:
            for key in ("mobile", "id_number"):
                if identity[key]:
                    by_key[(key, identity[key])].append(identity)

        for identity in known:
            index(identity)
        created: list[CustomerIdentity] = []
        for customer in customers:
            mobile, id_number = customer.get("mobile", ""), customer.get("id_number", "")
            candidates = by_key.get(("mobile", mobile), []) + by_key.get(("id_number", id_number), [])
            found = choose_identity(candidates, mobile=mobile, id_number=id_number)
            if found is None:
                identity = vault.seal_row(CustomerIdentity(
                    group=group_id, mobile=mobile, id_number=id_number, name=customer["name"],
                    created_at=clock.now(),
                ))
                created.append(identity)
                # Stands for the new identity in later matches (after every older one); the id comes from the insert.
                found = {"id": float("inf"), "mobile": mobile, "id_number": id_number, "row": identity}
                index(found)
            elif "row" not in found:
                await complete_identity(found, mobile=mobile, id_number=id_number)
                index(found)  # a key it just gained matches later customers too
            customer["group_identity"] = found
        for start in range(0, len(created), _BATCH):
            await CustomerIdentity.insert(*created[start:start + _BATCH])
        for customer in customers:
            identity = customer["group_identity"]
            customer["group_identity"] = identity["row"].id if "row" in identity else identity["id"]

    async def _insert(self, table) -> None:
        """Insert the pending records of `table` in batches; each gets its id."""
        pending = self.pending[table]
        now = clock.now()
        if is_postgres() and self.plain_insert:
            await self._insert_pg(table, pending, now)
            return
        for start in range(0, len(pending), _BATCH):
            batch = pending[start:start + _BATCH]
            rows = [
                table(
                    group=self.store.group_id, store=self.store.id, created_at=now, updated_at=now,
                    **vault.sealed_values(table, {k: (v["id"] if k in ("customer", "vehicle") else v)
                                                  for k, v in record.items()}),
                )
                for record in batch
            ]
            await table.insert(*rows)
            for record, row in zip(batch, rows):
                record["id"] = row.id


    async def _insert_pg(self, table, pending: list[dict], now: datetime) -> None:
        """The same rows as Piccolo's multi-row insert would write — every column, defaults for those a
        record lacks — as one plain parameterised statement per batch: building a `Table` object and a
        nested query string per row cost ~1 ms a row, most of a large import's time."""
        columns = [c for c in table._meta.columns if not c._meta.primary_key]
        names = [c._meta.name for c in columns]
        defaults = {c._meta.name: c.get_default_value() for c in columns}
        defaults |= {"group": self.store.group_id, "store": self.store.id, "created_at": now, "updated_at": now}
        json_columns = {c._meta.name for c in columns if isinstance(c, (JSON, JSONB))}
        unknown = {k for record in pending for k in record if k not in defaults and k != "id"}
        if unknown:
            raise ValueError(f"unknown columns for {table._meta.tablename}: {sorted(unknown)}")
        quoted = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
        insert = f"INSERT INTO {table._meta.tablename} ({quoted}) VALUES "
        # The import's own transaction connection, with asyncpg's `$n` placeholders: Piccolo's query-string
        # compilation walks every parameter in Python, seconds for an import of tens of thousands of rows.
        connection = engine().current_transaction.get().connection
        size = max(1, _MAX_PARAMETERS // len(columns))
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            args: list[Any] = []
            for record in batch:
                values = {**defaults, **vault.sealed_values(table, record)}
                for key in ("customer", "vehicle"):
                    if isinstance(values.get(key), dict):
                        values[key] = values[key]["id"]
                for key in json_columns:
                    if not isinstance(values[key], str) and values[key] is not None:
                        values[key] = dump_json(values[key])
                args.extend(v.value if isinstance(v, Enum) else v for v in map(values.__getitem__, names))
            width = len(columns)
            rows_sql = ", ".join(
                "(" + ", ".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(len(batch))
            )
            rows = await connection.fetch(insert + rows_sql + " RETURNING id", *args)
            for record, row in zip(batch, rows):  # PostgreSQL returns the rows of VALUES in order
                record["id"] = row["id"]


_BATCH = 500
_MAX_PARAMETERS = 30_000  # PostgreSQL takes at most 32,767 per statement
_NEVER_FILLED = {"source", "mobile", "id_number"}


def _sale_keys(order_no: str, vehicle: dict, delivered_at: datetime) -> set[tuple]:
    """A delivery is the same when its order number is, or — without one — the same vehicle on the same day.

    Vehicles are keyed by the record's identity, not its id: a vehicle new in this file has no id yet.
    """
    if order_no:
        return {("order", order_no)}
    return {("vehicle-day", _vehicle_key(vehicle), delivered_at.astimezone(timezone.utc).date())}


def _visit_keys(repair_order_no: str, vehicle: dict, left_at: datetime) -> set[tuple]:
    """A visit is the same when its repair-order number is, or — without one — the same vehicle leaving then."""
    if repair_order_no:
        return {("ro", repair_order_no)}
    return {("vehicle-left", _vehicle_key(vehicle), left_at.timestamp())}


def _vehicle_key(vehicle: dict):
    return vehicle["id"] if "id" in vehicle else f"new:{id(vehicle)}"

