"""Checks and normalisation for the identifiers of customer records (客户档案).

Each `check_*` function takes raw input (as typed in a form or found in a DMS
export) and returns the normalised value, or raises `InvalidInput` with one
`FieldProblem` in Chinese and English. Normalising here, once, is what lets the
service match a customer typed as "+86 138-0013-8000" in one store with
"13800138000" in another.

Sources of the rules:
- mobile numbers: mainland numbers are 11 digits starting with 13–19;
- VIN: ISO 3779 / GB 16735 — 17 characters, no I, O or Q, check digit at position 9;
- plates: GA 36 — province abbreviation, issuing-office letter, 5 characters
  (ordinary) or 6 characters (new-energy, 新能源, D/F family letter first for small
  cars, last for large ones);
- ID numbers: GB 11643 — 18 characters, birth date at 7–14, ISO 7064 MOD 11-2 check character;
- company codes: GB 32100 unified social credit code — 18 characters, MOD 31 check character;
- postcodes: 6 digits.
"""

from __future__ import annotations

import re
from datetime import date

from crm import clock
from tenants.errors import FieldProblem, InvalidInput

PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


def normalise_mobile(raw: str) -> str:
    """Digits only, without the +86 / 0086 country prefix; no validity check."""
    digits = re.sub(r"[\s\-()\uff08\uff09.+]", "", raw or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits


def check_mobile(raw: str, field: str = "mobile") -> str:
    """A mainland mobile number (手机号), normalised to 11 digits."""
    number = normalise_mobile(raw)
    if not _MOBILE.fullmatch(number):
        raise _problem(field, "手机号格式错误，应为11位中国大陆手机号", "Not a mainland China mobile number (11 digits, 13x–19x)")
    return number


def check_phone(raw: str, field: str = "phone") -> str:
    """A number the store can call back: a mainland mobile, a landline with its area code
    (固定电话, e.g. 010-62345678, extension after a dash) or a 400/800 service number."""
    if _MOBILE.fullmatch(normalise_mobile(raw)):
        return normalise_mobile(raw)
    number = re.sub(r"[\s()\uff08\uff09]", "", raw or "")
    number = re.sub(r"^(\+86|0086)-?", "0" if not number.startswith(("+860", "00860")) else "", number)
    landline = _LANDLINE.fullmatch(number)
    if landline:
        area, local, extension = landline.groups()
        return f"{area}-{local}" + (f"-{extension}" if extension else "")
    if _SERVICE_NUMBER.fullmatch(number.replace("-", "")):
        return number.replace("-", "")
    raise _problem(
        field,
        "电话号码格式错误，应为11位手机号或带区号的固定电话（如 010-62345678）",
        "Not a phone number: an 11-digit mobile or a landline with area code (e.g. 010-62345678)",
    )


def check_vin(raw: str, field: str = "vin", *, check_digit: bool = True) -> str:
    """A vehicle identification number (车架号/VIN), upper-cased, with a valid check digit.

    `check_digit=False` for looking a car up: many Chinese-market VINs carry no valid check digit, but the
    length and the character set (no I, O, Q) are the same everywhere."""
    vin = re.sub(r"[\s\-]", "", raw or "").upper()
    if len(vin) != 17:
        raise _problem(field, "车架号（VIN）应为17位", "A VIN has 17 characters")
    if re.search(r"[IOQ]", vin):
        raise _problem(field, "车架号（VIN）不能包含字母 I、O、Q", "A VIN may not contain the letters I, O or Q")
    if not re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", vin):
        raise _problem(field, "车架号（VIN）只能包含字母和数字", "A VIN has only letters and digits")
    if check_digit and vin[8] != vin_check_digit(vin):
        raise _problem(field, "车架号（VIN）校验位（第9位）不正确", "The VIN check digit (9th character) is wrong")
    return vin


def vin_check_digit(vin: str) -> str:
    """The check character for position 9 (ISO 3779 / GB 16735): weighted sum mod 11, 10 → X."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin.upper(), _VIN_WEIGHTS) if w)
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_plate(raw: str, field: str = "plate") -> str:
    """A mainland licence plate (车牌号): 7-character ordinary or 8-character new-energy."""
    plate = re.sub(r"[\s\-·•.]", "", raw or "").upper()
    if not plate or plate[0] not in PROVINCE_ABBREVIATIONS:
        raise _problem(field, "车牌号应以省份简称开头，如 京A12345", "A plate starts with a province abbreviation, e.g. 京A12345")
    if not (_ORDINARY_PLATE.fullmatch(plate) or _NEW_ENERGY_PLATE.fullmatch(plate)):
        raise _problem(
            field,
            "车牌号格式错误，应为7位普通车牌（如 京A12345）或8位新能源车牌（如 粤AD12345、沪A12345F）",
            "Not a valid plate: 7 characters (京A12345) or 8 for new-energy vehicles (粤AD12345, 沪A12345F)",
        )
    return plate


def check_id_number(raw: str, field: str = "id_number") -> str:
    """An 18-character resident ID number (身份证号) with a real birth date and a valid checksum."""
    number = re.sub(r"\s", "", raw or "").upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise _problem(field, "身份证号应为18位（最后一位可为X）", "An ID number has 18 characters (the last may be X)")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or born > clock.now().date():
        raise _problem(field, "身份证号中的出生日期无效", "The birth date in the ID number is not valid")
    if number[17] != id_check_character(number):
        raise _problem(field, "身份证号校验位不正确", "The ID number's check character is wrong")
    return number


def id_check_character(number: str) -> str:
    """The 18th character of a GB 11643 ID number (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS))
    return "10X98765432"[total % 11]


def check_credit_code(raw: str, field: str = "id_number") -> str:
    """A company's unified social credit code (统一社会信用代码, GB 32100): 18 characters, MOD 31 check."""
    code = re.sub(r"\s", "", raw or "").upper()
    if not re.fullmatch(rf"[{_CREDIT_CHARSET}]{{18}}", code):
        raise _problem(field, "统一社会信用代码应为18位数字或大写字母", "A unified social credit code has 18 digits or capital letters")
    total = sum(_CREDIT_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
    if code[17] != _CREDIT_CHARSET[(31 - total % 31) % 31]:
        raise _problem(field, "统一社会信用代码校验位不正确", "The unified social credit code's check character is wrong")
    return code


def birthday_from_id_number(number: str) -> date:
    """The birth date encoded in a checked ID number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def check_postcode(raw: str, field: str = "postcode") -> str:
    """A mainland postcode (邮编): 6 digits."""
    code = (raw or "").strip()
    if not re.fullmatch(r"\d{6}", code):
        raise _problem(field, "邮政编码应为6位数字", "A postcode has 6 digits")
    return code


def check_email(raw: str, field: str = "email") -> str:
    """An e-mail address (电子邮箱), lower-cased domain."""
    address = (raw or "").strip()
    if len(address) > 200 or not _EMAIL.fullmatch(address):
        raise _problem(field, "电子邮箱格式错误", "Not a valid e-mail address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


class Problems:
    """Collects every field problem of one record, so the caller sees them all at once.

    `value = problems.check(check_vin, raw, "vin")` returns the normalised value,
    or the raw value after recording the problem; `problems.raise_if_any()` at the end.
    """

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def check(self, checker, raw: str, field: str) -> str:
        try:
            return checker(raw, field)
        except InvalidInput as error:
            self.items.extend(error.problems)
            return raw

    def add(self, field: str, zh: str, en: str) -> None:
        self.items.append(FieldProblem(field, zh, en))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(self.items)


def _problem(field: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput.one(field, zh, en)


_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes are 3 or 4 digits with the leading 0 (010, 021, 0755); local numbers 7 or 8 digits.
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))-?([2-9]\d{6,7})(?:-(\d{1,6}))?")
_SERVICE_NUMBER = re.compile(r"[48]00\d{7}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

# Transliteration of ISO 3779: letters map to 1–9 skipping I, O, Q; position weights, 9th (check) weighs 0.
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

_CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# Serial characters exclude I and O (GA 36); the last may be a special-use character.
_SERIAL = "[A-HJ-NP-Z0-9]"
_ORDINARY_PLATE = re.compile(rf"[{PROVINCE_ABBREVIATIONS}][A-Z]{_SERIAL}{{4}}[A-HJ-NP-Z0-9挂学警港澳]")
# New-energy: small cars put the energy letter first (D pure electric, F other; A–K since 2021), large ones last.
_NEW_ENERGY_PLATE = re.compile(
    rf"[{PROVINCE_ABBREVIATIONS}][A-Z]([A-HJK]{_SERIAL}\d{{4}}|\d{{5}}[A-HJK])"
)
