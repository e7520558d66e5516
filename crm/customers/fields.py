"""The fields of customer records and the rules each must follow (客户档案字段).

`clean_*` take what a caller or a file gives (already typed: dates, aware
date-times, numbers) and return the values to store, normalised; every problem
of a record is raised at once as `InvalidInput`. Manual entry and the importer
both go through here, so a VIN that a form refuses is refused in a file too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from piccolo.table import Table

from crm import clock
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from crm.customers.validation import (
    Problems,
    birthday_from_id_number,
    check_credit_code,
    check_email,
    check_id_number,
    check_mobile,
    check_plate,
    check_postcode,
    check_vin,
)
from tenants.errors import InvalidInput

# Code → (中文, English) labels of the coded fields.
KINDS = {"private": ("个人", "Private"), "company": ("单位", "Company")}
GENDERS = {"": ("", ""), "male": ("男", "Male"), "female": ("女", "Female")}
MARITAL_STATUSES = {
    "": ("", ""),
    "single": ("未婚", "Single"),
    "married": ("已婚", "Married"),
    "divorced": ("离异", "Divorced"),
    "widowed": ("丧偶", "Widowed"),
}
REPAIR_TYPES = {
    "": ("", ""),
    "maintenance": ("保养", "Maintenance"),
    "repair": ("维修", "Repair"),
    "warranty": ("保修索赔", "Warranty"),
    "accident": ("事故车", "Accident repair"),
    "other": ("其他", "Other"),
}
SOURCES = {
    "manual": ("手工录入", "Entered by hand"),
    "import": ("文件导入", "File import"),
    "call_center": ("呼叫中心", "Call center"),
    "dms": ("DMS同步", "DMS sync"),
    "seed": ("演示数据", "Demo data"),
}

@dataclass(frozen=True)
class Field:
    """One field of a customer record (客户档案字段): the one definition the API's request structs, the
    importer's column headers, the checks below and the correction requests are derived from; a test checks
    the tables and the records against it.

    `max_len` bounds what a caller may send, before normalising (a mobile with spaces, a VIN with dashes):
    the stored value is bounded by its column. `headers` are the titles of the field's column in an import
    file (Chinese, English and DMS variants, compared without spaces, case or remarks in brackets); a field
    without headers is not imported.
    """

    record: Literal["customer", "vehicle", "sale", "visit"]
    name: str
    zh: str
    en: str
    kind: Literal["text", "choice", "flag", "date", "instant", "money", "mileage"] = "text"
    max_len: int = 0
    required: bool = False
    choices: dict[str, tuple[str, str]] | None = None
    headers: tuple[str, ...] = ()

    @property
    def default(self) -> Any:
        """The value of a new record that does not give the field."""
        if self.kind == "text":
            return ""
        if self.kind == "choice":
            return next(iter(self.choices or {}))
        return False if self.kind == "flag" else None


FIELDS: tuple[Field, ...] = (
    # customer
    Field("customer", "kind", "客户类型", "Customer type", kind="choice", choices=KINDS,
          headers=("客户类型", "客户性质", "客户类别", "kind", "customertype")),
    Field("customer", "name", "姓名", "Name", max_len=100, required=True,
          headers=("客户姓名", "客户名称", "姓名", "客户", "车主", "车主姓名", "name", "customername", "customer")),
    Field("customer", "gender", "性别", "Gender", kind="choice", choices=GENDERS,
          headers=("性别", "gender", "sex")),
    Field("customer", "birthday", "生日", "Birthday", kind="date",
          headers=("生日", "出生日期", "birthday", "birthdate", "dateofbirth")),
    Field("customer", "birthday_is_lunar", "农历生日", "Lunar birthday", kind="flag"),
    Field("customer", "marital_status", "婚姻状况", "Marital status", kind="choice", choices=MARITAL_STATUSES,
          headers=("婚姻状况", "婚姻", "maritalstatus")),
    Field("customer", "mobile", "手机", "Mobile", max_len=30,
          headers=("手机", "手机号", "手机号码", "移动电话", "联系手机", "mobile", "mobilephone", "cellphone", "phone")),
    Field("customer", "phone2", "其他电话", "Other phone", max_len=20,
          headers=("联系电话", "电话", "固定电话", "座机", "其他电话", "phone2", "telephone", "tel")),
    Field("customer", "email", "邮箱", "E-mail", max_len=200,
          headers=("邮箱", "电子邮箱", "电子邮件", "email", "e mail", "mail")),
    Field("customer", "id_number", "证件号", "ID number", max_len=30,
          headers=("身份证号", "身份证号码", "身份证", "证件号", "证件号码", "统一社会信用代码", "idnumber", "idno", "idcard")),
    Field("customer", "address", "地址", "Address", max_len=255,
          headers=("地址", "联系地址", "家庭住址", "通讯地址", "address")),
    Field("customer", "postcode", "邮编", "Postcode", max_len=10,
          headers=("邮编", "邮政编码", "postcode", "zip", "zipcode", "postalcode")),
    Field("customer", "employer", "工作单位", "Employer", max_len=100,
          headers=("工作单位", "employer", "company")),
    Field("customer", "occupation", "职业", "Occupation", max_len=50,
          headers=("职业", "occupation")),
    Field("customer", "hobbies", "爱好", "Hobbies", max_len=200,
          headers=("爱好", "兴趣爱好", "hobbies")),
    Field("customer", "industry", "行业", "Industry", max_len=50,
          headers=("行业", "所属行业", "industry")),
    Field("customer", "contact_person", "联系人", "Contact person", max_len=50,
          headers=("联系人", "contactperson", "contact")),
    Field("customer", "do_not_call", "免打扰", "Do not call", kind="flag"),
    Field("customer", "dms_ref", "客户编号", "DMS customer number", max_len=64,
          headers=("客户编号", "客户代码", "客户id", "customerno", "customercode", "customerid", "dmsref")),
    Field("customer", "note", "备注", "Note", max_len=4000,
          headers=("备注", "note", "remark", "remarks")),
    # vehicle
    Field("vehicle", "vin", "车架号", "VIN", max_len=30, required=True,
          headers=("车架号", "车架号/vin", "vin", "vin码", "车辆识别代号", "车辆识别代码", "底盘号", "vinno")),
    Field("vehicle", "engine_no", "发动机号", "Engine number", max_len=30,
          headers=("发动机号", "engineno", "enginenumber")),
    Field("vehicle", "plate", "车牌", "Plate", max_len=12,
          headers=("车牌号", "车牌", "车牌号码", "plate", "plateno", "licenseplate", "licenceplate")),
    Field("vehicle", "brand", "品牌", "Brand", max_len=50,
          headers=("品牌", "brand", "make")),
    Field("vehicle", "model", "车型", "Model", max_len=100,
          headers=("车型", "车型名称", "车系", "model")),
    Field("vehicle", "colour", "颜色", "Colour", max_len=30,
          headers=("颜色", "车身颜色", "colour", "color")),
    Field("vehicle", "insurer", "保险公司", "Insurer", max_len=100,
          headers=("保险公司", "承保公司", "insurer")),
    Field("vehicle", "insurance_expires_on", "保险到期日", "Insurance expires", kind="date",
          headers=("保险到期日", "保险到期日期", "保险到期", "insuranceexpireson", "insuranceexpiry")),
    Field("vehicle", "inspection_due_on", "年审日期", "Annual inspection", kind="date",
          headers=("年审到期日", "年检到期日", "年审日期", "年检日期", "inspectiondueon", "inspectiondue")),
    # sale
    Field("sale", "delivered_at", "交车时间", "Delivered at", kind="instant", required=True,
          headers=("交车日期", "交车时间", "交付日期", "deliveredat", "deliverydate", "delivered")),
    Field("sale", "order_no", "订单号", "Order number", max_len=64,
          headers=("订单号", "销售订单号", "合同号", "orderno", "ordernumber", "salesorderno")),
    Field("sale", "salesperson", "销售顾问", "Salesperson", max_len=50,
          headers=("销售顾问", "销售员", "销售人员", "salesperson", "salesconsultant")),
    Field("sale", "price", "成交价", "Price", kind="money",
          headers=("成交价", "成交价格", "售价", "车价", "price", "saleprice")),
    Field("sale", "discount", "优惠金额", "Discount", kind="money",
          headers=("优惠", "优惠金额", "折扣", "discount")),
    # visit
    Field("visit", "left_at", "离站时间", "Left at", kind="instant", required=True,
          headers=("离站时间", "离厂时间", "出厂时间", "leftat", "departure", "departedat")),
    Field("visit", "arrived_at", "进站时间", "Arrived at", kind="instant",
          headers=("进站时间", "进厂时间", "到店时间", "arrivedat", "arrival")),
    Field("visit", "repair_order_no", "工单号", "Repair-order number", max_len=64,
          headers=("工单号", "维修工单号", "委托书号", "repairorderno", "rono", "workorderno")),
    Field("visit", "advisor", "服务顾问", "Service advisor", max_len=50,
          headers=("服务顾问", "接待顾问", "advisor", "serviceadvisor")),
    Field("visit", "repair_type", "维修类型", "Repair type", kind="choice", choices=REPAIR_TYPES,
          headers=("维修类型", "维修类别", "业务类型", "repairtype", "servicetype")),
    Field("visit", "amount", "结算金额", "Amount", kind="money",
          headers=("结算金额", "维修金额", "金额", "amount", "total")),
    Field("visit", "mileage", "里程", "Mileage", kind="mileage",
          headers=("里程", "行驶里程", "进站里程", "公里数", "mileage", "odometer")),
    Field("visit", "next_visit_on", "下次来店日期", "Next visit", kind="date",
          headers=("下次保养日期", "下次来店日期", "下次保养时间", "建议下次保养日期", "nextvisiton", "nextvisit")),
)
BY_NAME = {(f.record, f.name): f for f in FIELDS}


def fields_of(record: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.record == record)


# Fields a caller may set: the definition's, and where the record came from (`source`, set by the service or
# the importer); everything else (ids, owner store, timestamps) is the service's business.
CUSTOMER_FIELDS = frozenset({f.name for f in fields_of("customer")} | {"source"})
VEHICLE_FIELDS = frozenset({f.name for f in fields_of("vehicle")} | {"source"})
SALE_FIELDS = frozenset({f.name for f in fields_of("sale")} | {"source"})
VISIT_FIELDS = frozenset({f.name for f in fields_of("visit")} | {"source"})

# The departments that own customer data (001 §9.3: a correction goes to the owning department's manager).
DEPARTMENTS = {"sales": ("销售部", "Sales"), "service": ("售后服务部", "Service")}


class Correctable(NamedTuple):
    """A field a callback may find wrong: on which record it lives, which department owns it, its label."""

    record: str  # customer | vehicle
    department: str  # a key of DEPARTMENTS
    label_zh: str
    label_en: str


# The one definition of what a callback may propose to correct and who decides: the customer's own details are
# taken at the sale (销售部); the car's papers — plate, insurance, annual inspection — are kept up by after-sales.
_CORRECTED_BY = (
    ("sales", "customer", ("name", "gender", "birthday", "mobile", "phone2", "email", "address", "postcode",
                           "employer", "occupation")),
    ("service", "vehicle", ("plate", "engine_no", "colour", "insurer", "insurance_expires_on", "inspection_due_on")),
)
CORRECTABLE: dict[str, Correctable] = {
    name: Correctable(record, department, BY_NAME[record, name].zh, BY_NAME[record, name].en)
    for department, record, names in _CORRECTED_BY for name in names
}

# A delivery or departure recorded "in the future" beyond clock skew is a typing error, and so is
# one before 1900; near year 1 or 9999 a time cannot even be converted to UTC for the database.
_FUTURE_TOLERANCE = timedelta(hours=1)
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)


def clean_customer(fields: dict, *, kind: str) -> dict:
    """Check and normalise customer fields; the ID number is checked as a person's or a company's by `kind`."""
    _reject_unknown(fields, CUSTOMER_FIELDS)
    problems = Problems()
    values: dict[str, Any] = {}
    for key, raw in fields.items():
        if key == "id_number":
            checker = check_credit_code if kind == "company" else check_id_number
            values[key] = problems.check(checker, raw, key) if _text(raw) else ""
        else:
            values[key] = _clean(problems, "customer", key, raw)
        if key == "birthday" and values[key] is not None and values[key] > clock.now().date():
            problems.add(key, "生日不能晚于今天", "The birthday is in the future")
    problems.raise_if_any()
    return values


def clean_vehicle(fields: dict) -> dict:
    """Check and normalise vehicle fields (VIN check digit, plate); every problem at once."""
    _reject_unknown(fields, VEHICLE_FIELDS)
    problems = Problems()
    values = {key: _clean(problems, "vehicle", key, raw) for key, raw in fields.items()}
    problems.raise_if_any()
    return values


def clean_sale(fields: dict) -> dict:
    """Check delivery fields: an aware, not-future delivery time, amounts, discount within price."""
    _reject_unknown(fields, SALE_FIELDS)
    problems = Problems()
    values = {key: _clean(problems, "sale", key, raw) for key, raw in fields.items()}
    price, discount = values.get("price"), values.get("discount")
    if price is not None and discount is not None and discount > price:
        problems.add("discount", "优惠金额不能大于售价", "The discount exceeds the price")
    problems.raise_if_any()
    return values


def clean_visit(fields: dict, *, partial: bool = False) -> dict:
    """Check visit fields; a complete visit (not `partial`) also has its times in order."""
    _reject_unknown(fields, VISIT_FIELDS)
    problems = Problems()
    values = {key: _clean(problems, "visit", key, raw) for key, raw in fields.items()}
    if not partial:
        check_visit_times(values, problems)
    problems.raise_if_any()
    return values


# Text fields with a format of their own (the ID number's depends on the customer's kind: see clean_customer).
_FORMATS = {"mobile": check_mobile, "email": check_email, "postcode": check_postcode, "vin": check_vin,
            "plate": check_plate}
_TABLES: dict[str, type[Table]] = {"customer": Customer, "vehicle": Vehicle, "sale": Sale, "visit": ServiceVisit}


def _clean(problems: Problems, record: str, key: str, raw: Any) -> Any:
    """One field's value to store, checked as its definition says."""
    if key == "source":
        return _choice(problems, key, raw, SOURCES)
    f = BY_NAME[record, key]
    if f.kind == "choice":
        return _choice(problems, key, raw, f.choices or {})
    if f.kind == "flag":
        return bool(raw)
    if f.kind == "date":
        return _date_or_none(problems, key, raw)
    if f.kind == "instant":
        return None if raw is None and not f.required else _past_instant(problems, key, raw, f.zh)
    if f.kind == "money":
        return _money(problems, key, raw)
    if f.kind == "mileage":
        return _mileage(problems, key, raw)
    if key in _FORMATS:
        if f.required:
            return problems.check(_FORMATS[key], _text(raw), key)
        return problems.check(_FORMATS[key], raw, key) if _text(raw) else ""
    return _bounded_text(problems, _TABLES[record], key, raw)


def check_visit_times(values: dict, problems: Problems | None = None) -> None:
    """Arrival before departure, next visit not before it; raises unless the caller collects problems."""
    collect = problems is not None
    problems = problems or Problems()
    left, arrived, next_visit = values.get("left_at"), values.get("arrived_at"), values.get("next_visit_on")
    if arrived is not None and left is not None and arrived > left:
        problems.add("arrived_at", "进站时间不能晚于离站时间", "Arrival is after departure")
    if next_visit is not None and left is not None and next_visit < left.date():
        problems.add("next_visit_on", "下次来店日期不能早于离站日期", "The next visit is before this departure")
    if not collect:
        problems.raise_if_any()


def fill_from_id_number(current: dict, values: dict) -> None:
    """A private customer's birthday and gender are in the ID number: fill them when blank."""
    number = current.get("id_number") or ""
    if current.get("kind", "private") != "private" or len(number) != 18:
        return
    if not current.get("birthday"):
        values["birthday"] = birthday_from_id_number(number)
    if not current.get("gender"):
        values["gender"] = "male" if int(number[16]) % 2 else "female"


def _reject_unknown(fields: dict, allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def _bounded_text(problems: Problems, table: type[Table], key: str, raw: Any) -> str:
    value = _text(raw)
    length = getattr(getattr(table, key), "length", None)
    if length and len(value) > length:
        problems.add(key, f"长度不能超过{length}个字符", f"At most {length} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold it; imported files and web forms get here unchecked
        problems.add(key, "不能包含空字符（U+0000）", "Must not contain the NUL character (U+0000)")
    return value


def _choice(problems: Problems, key: str, raw: Any, choices: dict) -> str:
    value = _text(raw)
    if value not in choices:
        allowed = "、".join(f"{k}({zh})" for k, (zh, _) in choices.items() if k)
        problems.add(key, f"取值无效，可选：{allowed}", f"Invalid value; one of {', '.join(k for k in choices if k)}")
    return value


def _date_or_none(problems: Problems, key: str, raw: Any) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    problems.add(key, "日期格式错误", "Not a date")
    return None


def _past_instant(problems: Problems, key: str, raw: Any, label: str) -> datetime | None:
    if not isinstance(raw, datetime) or raw.tzinfo is None:
        problems.add(key, f"{label}必须是带时区的时间", "A date-time with a time zone is required")
        return None
    if raw < EARLIEST:
        problems.add(key, f"{label}不能早于1900年", "The time is before 1900")
    elif raw > clock.now() + _FUTURE_TOLERANCE:
        problems.add(key, f"{label}不能晚于当前时间", "The time is in the future")
    return raw


def time_filter(field: str, value: datetime | None) -> datetime | None:
    """A listing's time bound (from / before), within the years the database can compare."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not EARLIEST <= aware < LATEST:
        raise InvalidInput.one(field, "时间须在1900年至9998年之间", "The time must be between 1900 and 9998")
    return value


def _money(problems: Problems, key: str, raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite():  # NaN passes `quantize` but fails every comparison
        problems.add(key, "金额格式错误", "Not an amount")
        return None
    if value < 0 or value >= Decimal("10000000000"):
        problems.add(key, "金额超出范围", "The amount is out of range")
    return value


def _mileage(problems: Problems, key: str, raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(Decimal(str(raw)))
    except ArithmeticError:
        problems.add(key, "里程数格式错误", "Not a mileage")
        return None
    if not 0 <= value <= 2_000_000:
        problems.add(key, "里程数超出范围（0–2000000公里）", "Mileage out of range (0–2,000,000 km)")
    return value
