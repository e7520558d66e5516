"""Import of DMS exports (经销商管理系统导出): customers, vehicles, deliveries and service visits.

A DMS exports one row per customer, per vehicle sale or per repair order, with
Chinese (客户姓名, 手机, 车架号, 交车日期, 工单号, 离站时间 …) or English
headers, as CSV (UTF-8 or GBK, often with a BOM) or XLSX. One importer reads
them all: each row names a customer, optionally a vehicle (by VIN), and a
delivery and/or a service visit of that vehicle.

Rules:
- Every row is checked with the same rules as manual entry (`service.clean_*`);
  each problem is reported with its spreadsheet row number, column and a
  Chinese and English message.
- A file with any row error writes nothing unless the caller accepts importing
  the valid rows. A file that cannot be read at all (not an XLSX, no sheet with
  recognisable headers, undecodable text) is a 400 on `file`.
- Re-importing a file creates no duplicates: deliveries are matched by order
  number (订单号), visits by repair-order number (工单号), vehicles by VIN per
  store, customers by DMS customer number, ID number or mobile per store. A
  matched record only gets its blank fields filled, never overwritten.
- Everything happens in one transaction; new deliveries and visits fire their
  signals inside it, like manual entry.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from crm import clock
from crm.customers import events, service
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from crm.customers.tx import transaction
from crm.settings import get_settings
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import IMPORTERS
from tenants.scope import Scope
from tenants.tables import DealerGroup, Store

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


async def import_file(
    *,
    actor: Scope,
    store_id: int | None,
    filename: str,
    content: bytes,
    accept_valid_rows: bool = False,
    sheet: str | None = None,
) -> ImportReport:
    """Read, check and (when clean, or when asked to take the valid rows) import a DMS export."""
    actor.require_role(*IMPORTERS)
    store = service.writable_store(actor, store_id)
    table = read_table(filename=filename, content=content, sheet=sheet)
    columns = _map_columns(table.header)
    tz = await _store_timezone(store.id)
    rows: list[_Row] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        if not any(_cell_text(c) for c in cells):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise _file_problem(f"文件行数超过上限 {MAX_ROWS}", f"More than {MAX_ROWS} rows")
        row, problems = _parse_row(number, cells, columns, tz)
        if problems:
            errors.extend(problems)
        else:
            rows.append(row)
    rows_with_errors = len({e.row for e in errors})
    report = ImportReport(
        filename=filename,
        format=table.format,
        encoding=table.encoding,
        sheet=table.sheet,
        header_row=table.header_row,
        rows_total=len(rows) + rows_with_errors,
        rows_valid=len(rows),
        rows_with_errors=rows_with_errors,
        imported=False,
        created=Counts(),
        updated=Counts(),
        unchanged=Counts(),
        unknown_columns=columns.unknown,
        errors=errors,
    )
    if report.rows_total == 0:
        raise _file_problem("文件中没有数据行", "The file has no data rows")
    if errors and not accept_valid_rows:
        return report
    async with transaction():
        await _Writer(store, report).write(rows)
    report.imported = True
    return report


@dataclass
class Table:
    """A sheet as read from the file: the header and the data rows with their spreadsheet numbers."""

    format: str
    encoding: str
    sheet: str
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[Any]]]


def read_table(*, filename: str, content: bytes, sheet: str | None = None) -> Table:
    """Decode CSV or XLSX into a `Table`, finding the header row (DMS exports often put a title above it)."""
    if len(content) > MAX_FILE_BYTES:
        raise _file_problem("文件超过20MB上限", "The file is larger than 20 MB")
    if not content.strip():
        raise _file_problem("文件为空", "The file is empty")
    name = filename.lower()
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_problem(
            "不支持旧版Excel(.xls)文件,请另存为.xlsx或CSV", "Old Excel (.xls) files are not supported; save as .xlsx or CSV"
        )
    if content.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content, sheet)
    return _read_csv(content)


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def _read_xlsx(content: bytes, wanted: str | None) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise _file_problem(
            "无法读取XLSX文件:文件已损坏或不是Excel(.xlsx)文件",
            f"Cannot read the XLSX file: it is damaged or not an Excel (.xlsx) file ({type(error).__name__})",
        ) from None
    except Exception as error:  # openpyxl raises many kinds on malformed parts; all mean "broken file"
        raise _file_problem(
            "无法读取XLSX文件:文件内容有误", f"Cannot read the XLSX file ({type(error).__name__})"
        ) from None
    try:
        names = list(workbook.sheetnames)
        if wanted is not None and wanted not in names:
            raise _file_problem(
                f"工作表“{wanted}”不存在,文件中的工作表:{'、'.join(names)}",
                f"No sheet named {wanted!r}; the sheets are: {', '.join(names)}",
            )
        for sheet_name in [wanted] if wanted else names:
            try:
                grid = [
                    (number, list(values))
                    for number, values in enumerate(workbook[sheet_name].iter_rows(values_only=True), start=1)
                ]
            except Exception:
                raise _file_problem("XLSX工作表内容损坏", "A sheet of the XLSX file is damaged") from None
            found = _find_header(grid)
            if found is not None:
                header_row, header = found
                data = [(n, cells) for n, cells in grid if n > header_row]
                return Table("xlsx", "", sheet_name, header_row, header, data)
        raise _file_problem(
            f"工作表中未找到可识别的列标题(如 客户姓名、手机、车架号),工作表:{'、'.join(names)}",
            f"No sheet has recognisable column headers (e.g. 客户姓名/name, 手机/mobile, 车架号/VIN); sheets: {', '.join(names)}",
        )
    finally:
        workbook.close()


def _read_csv(content: bytes) -> Table:
    text, encoding = _decode(content)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        grid = [(n, cells) for n, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1)]
    except csv.Error as error:
        raise _file_problem("CSV文件格式错误", f"Malformed CSV: {error}") from None
    found = _find_header(grid)
    if found is None:
        raise _file_problem(
            "未找到可识别的列标题(如 客户姓名、手机、车架号)",
            "No recognisable column headers (e.g. 客户姓名/name, 手机/mobile, 车架号/VIN)",
        )
    header_row, header = found
    return Table("csv", encoding, "", header_row, header, [(n, c) for n, c in grid if n > header_row])


def _decode(content: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GBK/GB18030."""
    if content.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return content.decode(encoding), "gbk" if encoding == "gb18030" else encoding
        except UnicodeDecodeError:
            continue
    raise _file_problem("无法识别文件编码(支持UTF-8和GBK)", "Unknown text encoding (UTF-8 and GBK are supported)")


def _find_header(grid: list[tuple[int, list[Any]]]) -> tuple[int, list[str]] | None:
    """The first of the top rows naming at least two known columns, one of them identifying a record."""
    for number, cells in grid[:10]:
        header = [_cell_text(c) for c in cells]
        known = {_ALIASES.get(_header_key(h)) for h in header} - {None}
        if len(known) >= 2 and known & {"name", "mobile", "vin", "id_number", "dms_ref"}:
            return number, header
    return None


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
    has_sale = columns.index.keys() & _SALE_COLUMNS
    has_visit = columns.index.keys() & _VISIT_COLUMNS
    if (has_sale or has_visit) and "vin" not in columns.index:
        raise _file_problem("交车或维修记录需要“车架号/VIN”列", "Sales and visits need a VIN column (车架号)")
    return columns


def _header_key(title: str) -> str:
    """Header text as compared with the aliases: no spaces, marks of required fields or remarks in brackets."""
    key = re.sub(r"[(\uff08][^)\uff09]*[)\uff09]", "", str(title))
    key = re.sub(r"[\s*:\uff1a_\-]", "", key).lower()
    return key


_FIELD_ALIASES: dict[str, list[str]] = {
    "name": ["客户姓名", "客户名称", "姓名", "客户", "车主", "车主姓名", "name", "customername", "customer"],
    "kind": ["客户类型", "客户性质", "客户类别", "kind", "customertype"],
    "mobile": ["手机", "手机号", "手机号码", "移动电话", "联系手机", "mobile", "mobilephone", "cellphone", "phone"],
    "phone2": ["联系电话", "电话", "固定电话", "座机", "其他电话", "phone2", "telephone", "tel"],
    "id_number": [
        "身份证号", "身份证号码", "身份证", "证件号", "证件号码", "统一社会信用代码", "idnumber", "idno", "idcard",
    ],
    "gender": ["性别", "gender", "sex"],
    "birthday": ["生日", "出生日期", "birthday", "birthdate", "dateofbirth"],
    "marital_status": ["婚姻状况", "婚姻", "maritalstatus"],
    "email": ["邮箱", "电子邮箱", "电子邮件", "email", "e mail", "mail"],
    "address": ["地址", "联系地址", "家庭住址", "通讯地址", "address"],
    "postcode": ["邮编", "邮政编码", "postcode", "zip", "zipcode", "postalcode"],
    "employer": ["工作单位", "employer", "company"],
    "occupation": ["职业", "occupation"],
    "hobbies": ["爱好", "兴趣爱好", "hobbies"],
    "industry": ["行业", "所属行业", "industry"],
    "contact_person": ["联系人", "contactperson", "contact"],
    "dms_ref": ["客户编号", "客户代码", "客户id", "customerno", "customercode", "customerid", "dmsref"],
    "note": ["备注", "note", "remark", "remarks"],
    "vin": ["车架号", "车架号/vin", "vin", "vin码", "车辆识别代号", "车辆识别代码", "底盘号", "vinno"],
    "plate": ["车牌号", "车牌", "车牌号码", "plate", "plateno", "licenseplate", "licenceplate"],
    "brand": ["品牌", "brand", "make"],
    "model": ["车型", "车型名称", "车系", "model"],
    "colour": ["颜色", "车身颜色", "colour", "color"],
    "engine_no": ["发动机号", "engineno", "enginenumber"],
    "insurer": ["保险公司", "承保公司", "insurer"],
    "insurance_expires_on": ["保险到期日", "保险到期日期", "保险到期", "insuranceexpireson", "insuranceexpiry"],
    "inspection_due_on": ["年审到期日", "年检到期日", "年审日期", "年检日期", "inspectiondueon", "inspectiondue"],
    "order_no": ["订单号", "销售订单号", "合同号", "orderno", "ordernumber", "salesorderno"],
    "delivered_at": ["交车日期", "交车时间", "交付日期", "deliveredat", "deliverydate", "delivered"],
    "salesperson": ["销售顾问", "销售员", "销售人员", "salesperson", "salesconsultant"],
    "price": ["成交价", "成交价格", "售价", "车价", "price", "saleprice"],
    "discount": ["优惠", "优惠金额", "折扣", "discount"],
    "repair_order_no": ["工单号", "维修工单号", "委托书号", "repairorderno", "rono", "workorderno"],
    "advisor": ["服务顾问", "接待顾问", "advisor", "serviceadvisor"],
    "repair_type": ["维修类型", "维修类别", "业务类型", "repairtype", "servicetype"],
    "amount": ["结算金额", "维修金额", "金额", "amount", "total"],
    "mileage": ["里程", "行驶里程", "进站里程", "公里数", "mileage", "odometer"],
    "arrived_at": ["进站时间", "进厂时间", "到店时间", "arrivedat", "arrival"],
    "left_at": ["离站时间", "离厂时间", "出厂时间", "leftat", "departure", "departedat"],
    "next_visit_on": ["下次保养日期", "下次来店日期", "下次保养时间", "建议下次保养日期", "nextvisiton", "nextvisit"],
}
_ALIASES = {_header_key(alias): target for target, aliases in _FIELD_ALIASES.items() for alias in aliases}

_CUSTOMER_COLUMNS = set(service.CUSTOMER_FIELDS) - {"source", "birthday_is_lunar", "do_not_call"}
_VEHICLE_COLUMNS = set(service.VEHICLE_FIELDS) - {"source"}
_SALE_COLUMNS = set(service.SALE_FIELDS) - {"source"}
_VISIT_COLUMNS = set(service.VISIT_FIELDS) - {"source"}

_KIND_WORDS = {"个人": "private", "私人": "private", "private": "private", "personal": "private",
               "单位": "company", "公司": "company", "企业": "company", "company": "company", "corporate": "company"}
_GENDER_WORDS = {"男": "male", "女": "female", "m": "male", "f": "female", "male": "male", "female": "female"}
_MARITAL_WORDS = {"未婚": "single", "已婚": "married", "离异": "divorced", "离婚": "divorced", "丧偶": "widowed",
                  "single": "single", "married": "married", "divorced": "divorced", "widowed": "widowed"}
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
    """One row checked by the service's own rules; every problem names its column."""
    raw = {key: cells[i] if i < len(cells) else None for key, i in columns.index.items()}
    problems: list[FieldProblem] = []

    def convert(key: str, parse) -> Any:
        try:
            return parse(raw[key])
        except _CellError as error:
            problems.append(FieldProblem(key, error.zh, error.en))
            return None

    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("birthday", "insurance_expires_on", "inspection_due_on", "next_visit_on"):
            values[key] = convert(key, _to_date)
        elif key in ("delivered_at", "left_at", "arrived_at"):
            values[key] = convert(key, lambda v: _to_instant(v, tz))
        elif key in ("price", "discount", "amount", "mileage"):
            values[key] = convert(key, _to_number)
        elif key == "kind":
            values[key] = _word(value, _KIND_WORDS)
        elif key == "gender":
            values[key] = _word(value, _GENDER_WORDS)
        elif key == "marital_status":
            values[key] = _word(value, _MARITAL_WORDS)
        elif key == "repair_type":
            values[key] = _repair_type(value)
        else:
            values[key] = _cell_text(value, phone=key in ("mobile", "phone2", "id_number"))
    kind = values.get("kind") or _guess_kind(values.get("name", ""))
    customer = {k: v for k, v in values.items() if k in _CUSTOMER_COLUMNS and v not in (None, "")}
    customer.update(kind=kind, source="import")
    vehicle = _part(values, _VEHICLE_COLUMNS)
    sale = _part(values, _SALE_COLUMNS)
    visit = _part(values, _VISIT_COLUMNS)
    cleaned = _Row(number, {}, None, None, None)
    if not customer.get("name"):
        problems.append(FieldProblem("name", "缺少客户姓名", "The customer name is missing"))
    if not (customer.get("mobile") or customer.get("id_number") or customer.get("dms_ref")):
        problems.append(
            FieldProblem("mobile", "需要手机、证件号或客户编号之一", "A mobile, ID number or customer number is needed")
        )
    if (sale or visit) and not (vehicle or {}).get("vin"):
        problems.append(FieldProblem("vin", "交车或维修记录缺少车架号", "A sale or visit needs the VIN"))
    if sale and values.get("delivered_at") is None and "delivered_at" not in {p.field for p in problems}:
        problems.append(FieldProblem("delivered_at", "缺少交车日期", "The delivery date is missing"))
    if visit and values.get("left_at") is None and "left_at" not in {p.field for p in problems}:
        problems.append(FieldProblem("left_at", "缺少离站时间", "The departure time is missing"))
    cleaned.customer = _collect(problems, service.clean_customer, customer, kind=kind)
    if vehicle and vehicle.get("vin"):
        cleaned.vehicle = _collect(problems, service.clean_vehicle, {**vehicle, "source": "import"})
    if sale and values.get("delivered_at") is not None:
        cleaned.sale = _collect(problems, service.clean_sale, {**sale, "source": "import"})
    if visit and values.get("left_at") is not None:
        cleaned.visit = _collect(problems, service.clean_visit, {**visit, "source": "import"})
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
    return cleaned, errors


def _part(values: dict, keys: set[str]) -> dict | None:
    part = {k: v for k, v in values.items() if k in keys and v not in (None, "")}
    return part or None


def _collect(problems: list[FieldProblem], clean, fields: dict, **kwargs) -> dict:
    try:
        return clean(fields, **kwargs)
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
    return text if text in service.REPAIR_TYPES else "other"


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
    raise _CellError("日期格式错误,应为 2025-03-01", "Not a date; use 2025-03-01")


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
    raise _CellError("时间格式错误,应为 2025-03-01 14:30", "Not a date-time; use 2025-03-01 14:30")


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


async def _store_timezone(store_id: int) -> ZoneInfo:
    """Local times in the file are the store's (or its group's) time zone."""
    store = await Store.select(Store.timezone, Store.group.timezone).where(Store.id == store_id).first()
    name = (store or {}).get("timezone") or (store or {}).get("group.timezone") or get_settings().default_timezone
    return ZoneInfo(name)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


class _Writer:
    """Writes checked rows into one store, matching what exists so that nothing is created twice.

    The store's keys are loaded once up front and kept current as rows are
    written, so a customer appearing on many rows of the file is one customer.
    """

    def __init__(self, store: service.StoreRef, report: ImportReport) -> None:
        self.store = store
        self.report = report
        self.customers: dict[tuple[str, str], int] = {}
        self.customer_rows: dict[int, dict] = {}
        self.vehicles: dict[str, dict] = {}
        self.sales: set[tuple] = set()
        self.visits: set[tuple] = set()
        self.seen: set[tuple[str, int]] = set()  # (table, id) already counted in this import

    async def write(self, rows: Iterable[_Row]) -> None:
        await self._load()
        for row in rows:
            customer_id = await self._customer(row.customer)
            vehicle_id = await self._vehicle(row.vehicle, customer_id) if row.vehicle else None
            if row.sale is not None and vehicle_id is not None:
                await self._sale(row.sale, customer_id, vehicle_id)
            if row.visit is not None and vehicle_id is not None:
                await self._visit(row.visit, customer_id, vehicle_id)

    async def _load(self) -> None:
        store = self.store.id
        for c in await Customer.select().where(Customer.store == store, Customer.active.eq(True)).order_by(
            Customer.id, ascending=False
        ):
            self._remember_customer(c)
        for v in await Vehicle.select().where(Vehicle.store == store, Vehicle.active.eq(True)):
            self.vehicles[v["vin"]] = v
        for s in await Sale.select(Sale.order_no, Sale.vehicle, Sale.delivered_at).where(
            Sale.store == store, Sale.cancelled_at.is_null()
        ):
            self.sales.update(_sale_keys(s["order_no"], s["vehicle"], s["delivered_at"]))
        for x in await ServiceVisit.select(
            ServiceVisit.repair_order_no, ServiceVisit.vehicle, ServiceVisit.left_at
        ).where(ServiceVisit.store == store, ServiceVisit.cancelled_at.is_null()):
            self.visits.update(_visit_keys(x["repair_order_no"], x["vehicle"], x["left_at"]))

    def _remember_customer(self, row: dict) -> None:
        # Loaded newest first: the oldest profile wins a key, as `service` matches by lowest id.
        for key in ("dms_ref", "id_number", "mobile"):
            if row.get(key):
                self.customers[(key, row[key])] = row["id"]
        self.customer_rows[row["id"]] = row

    async def _customer(self, values: dict) -> int:
        for key in ("dms_ref", "id_number", "mobile"):
            found = self.customers.get((key, values.get(key, "")))
            if found is not None:
                await self._fill_blanks(Customer, self.customer_rows[found], values, "customers")
                self._remember_customer(self.customer_rows[found])
                return found
        values = dict(values)
        service.fill_from_id_number(values, values)
        identity_id = await service.link_identity(
            group_id=self.store.group_id, mobile=values.get("mobile", ""), id_number=values.get("id_number", ""),
            name=values["name"],
        )
        now = clock.now()
        customer = Customer(
            group=self.store.group_id, store=self.store.id, group_identity=identity_id,
            created_at=now, updated_at=now, **values,
        )
        await customer.save()
        self._remember_customer({**values, "id": customer.id})
        self.seen.add(("customers", customer.id))
        self.report.created.customers += 1
        return customer.id

    async def _vehicle(self, values: dict, customer_id: int) -> int:
        existing = self.vehicles.get(values["vin"])
        if existing is not None:
            await self._fill_blanks(Vehicle, existing, values, "vehicles")
            return existing["id"]
        now = clock.now()
        vehicle = Vehicle(
            group=self.store.group_id, store=self.store.id, customer=customer_id,
            created_at=now, updated_at=now, **values,
        )
        await vehicle.save()
        self.vehicles[values["vin"]] = {**values, "id": vehicle.id}
        self.seen.add(("vehicles", vehicle.id))
        self.report.created.vehicles += 1
        return vehicle.id

    async def _sale(self, values: dict, customer_id: int, vehicle_id: int) -> None:
        keys = _sale_keys(values.get("order_no", ""), vehicle_id, values["delivered_at"])
        sale_id = await self._document(Sale, self.sales, keys, values, customer_id, vehicle_id, "sales")
        if sale_id is not None:
            await events.sale_recorded.send(group_id=self.store.group_id, store_id=self.store.id, sale_id=sale_id)

    async def _visit(self, values: dict, customer_id: int, vehicle_id: int) -> None:
        keys = _visit_keys(values.get("repair_order_no", ""), vehicle_id, values["left_at"])
        visit_id = await self._document(ServiceVisit, self.visits, keys, values, customer_id, vehicle_id, "visits")
        if visit_id is not None:
            await events.visit_recorded.send(group_id=self.store.group_id, store_id=self.store.id, visit_id=visit_id)

    async def _document(
        self, table, known: set[tuple], keys: set[tuple], values: dict, customer_id: int, vehicle_id: int,
        counter: str,
    ) -> int | None:
        """Insert a delivery or visit unless one of its keys is known; the new id, or None when it existed."""
        if keys & known:
            setattr(self.report.unchanged, counter, getattr(self.report.unchanged, counter) + 1)
            return None
        now = clock.now()
        row = table(
            group=self.store.group_id, store=self.store.id, customer=customer_id, vehicle=vehicle_id,
            created_at=now, updated_at=now, **values,
        )
        await row.save()
        known.update(keys)
        setattr(self.report.created, counter, getattr(self.report.created, counter) + 1)
        return row.id

    async def _fill_blanks(self, table, existing: dict, values: dict, counter: str) -> None:
        """A matched record only gets the fields it lacks: the store's own corrections are never overwritten.

        Mobile and ID number are left alone: they key the group identity, and
        re-keying it belongs to an edit by a person, not to a bulk import.
        """
        blanks = {
            k: v for k, v in values.items()
            if k not in _NEVER_FILLED and v not in (None, "") and existing.get(k) in (None, "")
        }
        first_time = (counter, existing["id"]) not in self.seen
        self.seen.add((counter, existing["id"]))
        if blanks:
            await table.update({**blanks, "updated_at": clock.now()}, use_auto_update=False).where(
                table.id == existing["id"]
            )
            existing.update(blanks)
            setattr(self.report.updated, counter, getattr(self.report.updated, counter) + 1)
        elif first_time:
            setattr(self.report.unchanged, counter, getattr(self.report.unchanged, counter) + 1)


_NEVER_FILLED = {"source", "mobile", "id_number"}


def _sale_keys(order_no: str, vehicle_id: int, delivered_at: datetime) -> set[tuple]:
    """A delivery is the same when its order number is, or — without one — the same vehicle on the same day."""
    if order_no:
        return {("order", order_no)}
    return {("vehicle-day", vehicle_id, delivered_at.astimezone(timezone.utc).date())}


def _visit_keys(repair_order_no: str, vehicle_id: int, left_at: datetime) -> set[tuple]:
    """A visit is the same when its repair-order number is, or — without one — the same vehicle leaving at the same time."""
    if repair_order_no:
        return {("ro", repair_order_no)}
    return {("vehicle-left", vehicle_id, left_at.timestamp())}

