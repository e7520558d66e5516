"""Dashboard periods in the group's local days: ISO week, month, quarter, year, or a custom range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tenants.errors import FieldProblem, InvalidInput

KINDS = ("week", "month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 3 * 366 + 1
_FIRST, _LAST = date(2000, 1, 1), date(2099, 12, 31)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive
    label: str  # 2026-11, 2026-W48, 2026-Q4, 2026, 2026-11-01~2026-11-30

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def parse_period(kind: str, *, today: date, week: str = "", month: str = "", quarter: str = "", year: str = "",
                 start: date | None = None, end: date | None = None) -> Period:
    """The period a request names; the current week/month/quarter/year when its value is left out."""
    if kind not in KINDS:
        raise InvalidInput.one("period", "统计周期须为 week、month、quarter、year 或 custom",
                               "period must be week, month, quarter, year or custom")
    if kind == "custom":
        return _custom(start, end)
    if kind == "week":
        day = _parse(week, r"(\d{4})-W(\d{2})", "week", "周须写作 2026-W48", "week must look like 2026-W48",
                     lambda y, w: date.fromisocalendar(y, w, 1)) if week else today
        monday = day - timedelta(days=day.weekday())
        iso = monday.isocalendar()
        return Period("week", monday, monday + timedelta(days=7), f"{iso.year}-W{iso.week:02d}")
    if kind == "month":
        first = _parse(month, r"(\d{4})-(\d{2})", "month", "月份须写作 2026-11", "month must look like 2026-11",
                       lambda y, m: date(y, m, 1)) if month else today.replace(day=1)
        return Period("month", first, _add_months(first, 1), f"{first:%Y-%m}")
    if kind == "quarter":
        first = _parse(quarter, r"(\d{4})-Q([1-4])", "quarter", "季度须写作 2026-Q4",
                       "quarter must look like 2026-Q4", lambda y, q: date(y, 3 * q - 2, 1)) if quarter else \
            date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return Period("quarter", first, _add_months(first, 3), f"{first.year}-Q{(first.month - 1) // 3 + 1}")
    first = _parse(year, r"(\d{4})", "year", "年份须写作 2026", "year must look like 2026",
                   lambda y: date(y, 1, 1)) if year else date(today.year, 1, 1)
    return Period("year", first, date(first.year + 1, 1, 1), f"{first.year}")


def weeks(start: date, end: date) -> list[Period]:
    """The ISO weeks overlapping [start, end)."""
    monday = start - timedelta(days=start.weekday())
    out = []
    while monday < end:
        iso = monday.isocalendar()
        out.append(Period("week", monday, monday + timedelta(days=7), f"{iso.year}-W{iso.week:02d}"))
        monday += timedelta(days=7)
    return out


def months(start: date, end: date) -> list[Period]:
    """The calendar months overlapping [start, end)."""
    first = start.replace(day=1)
    out = []
    while first < end:
        out.append(Period("month", first, _add_months(first, 1), f"{first:%Y-%m}"))
        first = _add_months(first, 1)
    return out


def _custom(start: date | None, end: date | None) -> Period:
    problems = []
    if start is None:
        problems.append(FieldProblem("from", "自定义周期须给出开始日期", "a custom period needs from"))
    if end is None:
        problems.append(FieldProblem("to", "自定义周期须给出结束日期", "a custom period needs to"))
    if problems:
        raise InvalidInput(problems)
    assert start is not None and end is not None
    if not (_FIRST <= start <= _LAST and _FIRST <= end <= _LAST):
        raise InvalidInput.one("from", "日期须在2000年至2099年之间", "dates must be between 2000 and 2099")
    if end < start:
        raise InvalidInput.one("to", "结束日期不能早于开始日期", "to must not be before from")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise InvalidInput.one("to", "自定义周期最长三年", "a custom period is at most three years")
    return Period("custom", start, end + timedelta(days=1), f"{start.isoformat()}~{end.isoformat()}")


def _parse(value: str, pattern: str, field: str, zh: str, en: str, build) -> date:
    match = re.fullmatch(pattern, value.strip())
    try:
        if match is None:
            raise ValueError(value)
        day = build(*(int(g) for g in match.groups()))
    except ValueError:
        raise InvalidInput.one(field, zh, en) from None
    if not _FIRST <= day <= _LAST:
        raise InvalidInput.one(field, "日期须在2000年至2099年之间", "dates must be between 2000 and 2099")
    return day


def _add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
