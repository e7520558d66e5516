"""The fields of customer records and the rules each must follow (客户档案字段).

`clean_*` take what a caller or a file gives (already typed: dates, aware
date-times, numbers) and return the values to store, normalised; every problem
of a record is raised at once as `InvalidInput`. Manual entry and the importer
both go through here, so a VIN that a form refuses is refused in a file too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

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

# Fields a caller may set; everything else (ids, owner store, timestamps) is the service's business.
CUSTOMER_FIELDS = frozenset(
    {
        "kind", "name", "gender", "birthday", "birthday_is_lunar", "marital_status", "mobile", "phone2",
        "email", "id_number", "address", "postcode", "employer", "occupation", "hobbies", "industry",
        "contact_person", "source", "do_not_call", "dms_ref", "note",
    }
)
VEHICLE_FIELDS = frozenset(
    {
        "vin", "engine_no", "plate", "brand", "model", "colour", "insurer", "insurance_expires_on",
        "inspection_due_on", "source",
    }
)
SALE_FIELDS = frozenset({"order_no", "salesperson", "price", "discount", "delivered_at", "source"})
VISIT_FIELDS = frozenset(
    {
        "repair_order_no", "advisor", "repair_type", "amount", "mileage", "arrived_at", "left_at",
        "next_visit_on", "source",
    }
)

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
CORRECTABLE: dict[str, Correctable] = {
    "name": Correctable("customer", "sales", "姓名", "Name"),
    "gender": Correctable("customer", "sales", "性别", "Gender"),
    "birthday": Correctable("customer", "sales", "生日", "Birthday"),
    "mobile": Correctable("customer", "sales", "手机", "Mobile"),
    "phone2": Correctable("customer", "sales", "其他电话", "Other phone"),
    "email": Correctable("customer", "sales", "邮箱", "E-mail"),
    "address": Correctable("customer", "sales", "地址", "Address"),
    "postcode": Correctable("customer", "sales", "邮编", "Postcode"),
    "employer": Correctable("customer", "sales", "工作单位", "Employer"),
    "occupation": Correctable("customer", "sales", "职业", "Occupation"),
    "plate": Correctable("vehicle", "service", "车牌", "Plate"),
    "engine_no": Correctable("vehicle", "service", "发动机号", "Engine number"),
    "colour": Correctable("vehicle", "service", "颜色", "Colour"),
    "insurer": Correctable("vehicle", "service", "保险公司", "Insurer"),
    "insurance_expires_on": Correctable("vehicle", "service", "保险到期日", "Insurance expires"),
    "inspection_due_on": Correctable("vehicle", "service", "年审日期", "Annual inspection"),
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
        if key == "kind":
            values[key] = _choice(problems, key, raw, KINDS)
        elif key in ("gender", "marital_status"):
            values[key] = _choice(problems, key, raw, GENDERS if key == "gender" else MARITAL_STATUSES)
        elif key == "source":
            values[key] = _choice(problems, key, raw, SOURCES)
        elif key in ("birthday_is_lunar", "do_not_call"):
            values[key] = bool(raw)
        elif key == "birthday":
            values[key] = _date_or_none(problems, key, raw)
            if values[key] is not None and values[key] > clock.now().date():
                problems.add(key, "生日不能晚于今天", "The birthday is in the future")
        elif key == "mobile":
            values[key] = problems.check(check_mobile, raw, key) if _text(raw) else ""
        elif key == "id_number":
            checker = check_credit_code if kind == "company" else check_id_number
            values[key] = problems.check(checker, raw, key) if _text(raw) else ""
        elif key == "email":
            values[key] = problems.check(check_email, raw, key) if _text(raw) else ""
        elif key == "postcode":
            values[key] = problems.check(check_postcode, raw, key) if _text(raw) else ""
        else:
            values[key] = _bounded_text(problems, Customer, key, raw)
    problems.raise_if_any()
    return values


def clean_vehicle(fields: dict) -> dict:
    """Check and normalise vehicle fields (VIN check digit, plate); every problem at once."""
    _reject_unknown(fields, VEHICLE_FIELDS)
    problems = Problems()
    values: dict[str, Any] = {}
    for key, raw in fields.items():
        if key == "vin":
            values[key] = problems.check(check_vin, _text(raw), key)
        elif key == "plate":
            values[key] = problems.check(check_plate, raw, key) if _text(raw) else ""
        elif key in ("insurance_expires_on", "inspection_due_on"):
            values[key] = _date_or_none(problems, key, raw)
        elif key == "source":
            values[key] = _choice(problems, key, raw, SOURCES)
        else:
            values[key] = _bounded_text(problems, Vehicle, key, raw)
    problems.raise_if_any()
    return values


def clean_sale(fields: dict) -> dict:
    """Check delivery fields: an aware, not-future delivery time, amounts, discount within price."""
    _reject_unknown(fields, SALE_FIELDS)
    problems = Problems()
    values: dict[str, Any] = {}
    for key, raw in fields.items():
        if key == "delivered_at":
            values[key] = _past_instant(problems, key, raw, "交车时间")
        elif key in ("price", "discount"):
            values[key] = _money(problems, key, raw)
        elif key == "source":
            values[key] = _choice(problems, key, raw, SOURCES)
        else:
            values[key] = _bounded_text(problems, Sale, key, raw)
    price, discount = values.get("price"), values.get("discount")
    if price is not None and discount is not None and discount > price:
        problems.add("discount", "优惠金额不能大于售价", "The discount exceeds the price")
    problems.raise_if_any()
    return values


def clean_visit(fields: dict, *, partial: bool = False) -> dict:
    """Check visit fields; a complete visit (not `partial`) also has its times in order."""
    _reject_unknown(fields, VISIT_FIELDS)
    problems = Problems()
    values: dict[str, Any] = {}
    for key, raw in fields.items():
        if key in ("left_at", "arrived_at"):
            label = "离站时间" if key == "left_at" else "进站时间"
            values[key] = None if raw is None and key == "arrived_at" else _past_instant(problems, key, raw, label)
        elif key == "next_visit_on":
            values[key] = _date_or_none(problems, key, raw)
        elif key == "amount":
            values[key] = _money(problems, key, raw)
        elif key == "mileage":
            values[key] = _mileage(problems, key, raw)
        elif key == "repair_type":
            values[key] = _choice(problems, key, raw, REPAIR_TYPES)
        elif key == "source":
            values[key] = _choice(problems, key, raw, SOURCES)
        else:
            values[key] = _bounded_text(problems, ServiceVisit, key, raw)
    if not partial:
        check_visit_times(values, problems)
    problems.raise_if_any()
    return values


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
        problems.add(key, "不能包含空字符 (U+0000)", "Must not contain the NUL character (U+0000)")
    return value


def _choice(problems: Problems, key: str, raw: Any, choices: dict) -> str:
    value = _text(raw)
    if value not in choices:
        allowed = "、".join(f"{k}({zh})" for k, (zh, _) in choices.items() if k)
        problems.add(key, f"取值无效,可选:{allowed}", f"Invalid value; one of {', '.join(k for k in choices if k)}")
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
        problems.add(key, "里程数超出范围(0–2000000公里)", "Mileage out of range (0–2,000,000 km)")
    return value
