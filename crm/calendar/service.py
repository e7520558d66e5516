"""The business calendar of a store: "3 calendar days after", "N working hours after", "next contact window".

Working days follow the State Council's holiday schedule, including make-up
working days (调休, e.g. a Saturday that is a working day): first the group's own
overrides (`calendar_override`, entered by a group admin — the library only knows
the years published before its release), then `chinesecalendar`. A year covered by
neither falls back to Monday–Friday with no holidays, and says so once per year in
the log (and in `GET /api/v1/calendar/coverage`). Settings come from the
group's `calendar_setting` row, overridden field by field by the store's row;
the timezone is the store's, else the group's (default Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from zoneinfo import ZoneInfo

import chinese_calendar
from lunar_python import Lunar, LunarMonth, LunarYear

from crm.calendar.tables import CalendarOverride, CalendarSetting
from tenants.errors import NotFound
from tenants.scope import Scope, timezone_of
from tenants.tables import DealerGroup, Store

_UTC = dt.timezone.utc
_SEARCH_DAYS = 400  # no real calendar has a longer stretch without a working day or contact window
_log = logging.getLogger(__name__)
_LIBRARY_YEARS = (min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year)
_warned_years: set[int] = set()
HOLIDAY, WORKDAY = "holiday", "workday"


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    open_time: dt.time = dt.time(8, 30)
    close_time: dt.time = dt.time(18, 0)
    contact_start: dt.time = dt.time(9, 0)  # before: quiet hours (免打扰), no calls or SMS
    contact_end: dt.time = dt.time(20, 0)  # from here on: quiet hours
    contact_on_weekends: bool = True  # rest days that are not public holidays
    contact_on_holidays: bool = False  # 法定节假日 (春节, 国庆 …)
    # The group's own schedule entries (day → "holiday" | "workday"), consulted before the library.
    overrides: Mapping[dt.date, str] = field(default_factory=dict, compare=False, hash=False)

    @functools.cached_property
    def override_years(self) -> frozenset[int]:
        return frozenset(day.year for day in self.overrides)

    def covers(self, year: int) -> bool:
        """Whether the holiday schedule of `year` is known (from the library or the group's overrides)."""
        return library_covers(year) or year in self.override_years

    def local(self, moment: dt.datetime) -> dt.datetime:
        return _aware(moment).astimezone(self.tz)

    def is_working_day(self, day: dt.date) -> bool:
        """Working day under the official schedule: weekdays minus holidays, plus 调休 weekend workdays."""
        kind = self.overrides.get(day)
        if kind is not None:
            return kind == WORKDAY
        self._warn_if_uncovered(day.year)
        return _official_working_day(day)

    def is_public_holiday(self, day: dt.date) -> bool:
        """A statutory holiday (including the rest days of its block), not an ordinary weekend."""
        kind = self.overrides.get(day)
        if kind is not None:
            return kind == HOLIDAY
        self._warn_if_uncovered(day.year)
        return _official_holiday(day)

    def is_contact_day(self, day: dt.date) -> bool:
        if self.is_working_day(day):
            return True
        if self.is_public_holiday(day):
            return self.contact_on_holidays
        return self.contact_on_weekends

    def add_calendar_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same local wall-clock time `days` days later (UTC)."""
        local = self.local(moment)
        later = dt.datetime.combine(local.date() + dt.timedelta(days=days), local.time().replace(tzinfo=None))
        return later.replace(tzinfo=self.tz).astimezone(_UTC)

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same local time on the `days`-th following working day (UTC)."""
        local = self.local(moment)
        day = local.date()
        for _ in range(days):
            day = self._next_working_day(day + dt.timedelta(days=1))
        return dt.datetime.combine(day, local.time().replace(tzinfo=None)).replace(tzinfo=self.tz).astimezone(_UTC)

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        """`hours` of opening time later, counted only within opening hours of working days (UTC)."""
        remaining = dt.timedelta(hours=hours)
        local = self.local(moment)
        day = local.date()
        cursor = local
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(day):
                start = max(cursor, self._at(day, self.open_time))
                end = self._at(day, self.close_time)
                if start < end:
                    if start + remaining <= end:
                        return (start + remaining).astimezone(_UTC)
                    remaining -= end - start
            day += dt.timedelta(days=1)
            cursor = self._at(day, dt.time(0))
        raise ValueError("no working hours found")

    def next_contact_time(self, moment: dt.datetime) -> dt.datetime:
        """`moment` if customers may be contacted then, else the start of the next contact window (UTC)."""
        local = self.local(moment)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self.is_contact_day(day):
                start, end = self._at(day, self.contact_start), self._at(day, self.contact_end)
                if local < start:
                    return start.astimezone(_UTC)
                if local < end:
                    return local.astimezone(_UTC)
            day += dt.timedelta(days=1)
            local = self._at(day, dt.time(0))
        raise ValueError("no contact window found")

    def is_contact_time(self, moment: dt.datetime) -> bool:
        return self.next_contact_time(moment) == _aware(moment).astimezone(_UTC)

    def is_open(self, moment: dt.datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and self.open_time <= local.time().replace(tzinfo=None) < self.close_time

    def _warn_if_uncovered(self, year: int) -> None:
        if year in _warned_years or self.covers(year):
            return
        _warned_years.add(year)
        _log.warning(
            "holiday schedule for %s unknown (chinesecalendar covers %s–%s, no calendar overrides): "
            "counting Monday–Friday as working days without public holidays; "
            "enter the year's schedule via /api/v1/calendar/overrides", year, *_LIBRARY_YEARS,
        )

    def _next_working_day(self, day: dt.date) -> dt.date:
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("no working day found")

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time).replace(tzinfo=self.tz)


async def calendar_for_store(store_id: int) -> BusinessCalendar:
    """The calendar a store works by: group settings overridden by the store's own."""
    store = await Store.select(Store.group).where(Store.id == store_id).first()
    if store is None:
        raise NotFound("store")
    rows = await Scope.system(store["group"], store_id).select(CalendarSetting, group_rows=True)
    group_row = next((r for r in rows if r["store"] is None), None)
    store_row = next((r for r in rows if r["store"] == store_id), None)
    overrides = await group_overrides(store["group"])
    return _build(await timezone_of(store=store_id), group_row, store_row, overrides)


async def calendar_for_group(group_id: int) -> BusinessCalendar:
    """The group's own calendar (for group-level deadlines that belong to no store)."""
    group = await DealerGroup.select(DealerGroup.id).where(DealerGroup.id == group_id).first()
    if group is None:
        raise NotFound("group")
    row = await Scope.system(group_id).select(CalendarSetting).where(CalendarSetting.store.is_null()).first()
    return _build(await timezone_of(group=group_id), row, None, await group_overrides(group_id))


async def group_overrides(group_id: int) -> dict[dt.date, str]:
    """The group's own holiday / make-up workday entries, by day."""
    rows = await Scope.system(group_id).select(CalendarOverride, CalendarOverride.day, CalendarOverride.kind)
    return {r["day"]: r["kind"] for r in rows}


def library_covers(year: int) -> bool:
    """Whether `chinesecalendar` has the State Council's schedule for `year`."""
    return _LIBRARY_YEARS[0] <= year <= _LIBRARY_YEARS[1]


def lunar_to_solar(year: int, month: int, day: int, *, leap: bool = False) -> dt.date:
    """The solar date of lunar month/day in the lunar year `year` (农历生日 → 公历).

    A day 30 in a 29-day month falls on the month's last day; a leap month that
    the year does not have falls back to the ordinary month.
    """
    lunar_year = LunarYear.fromYear(year)
    wanted = -month if leap and lunar_year.getLeapMonth() == month else month
    lunar_month: LunarMonth = LunarMonth.fromYm(year, wanted)
    day = min(day, lunar_month.getDayCount())
    solar = Lunar.fromYmd(year, wanted, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def next_lunar_birthday(month: int, day: int, *, on_or_after: dt.date, leap: bool = False) -> dt.date:
    """The next solar date, on or after `on_or_after`, of a lunar birthday."""
    for year in (on_or_after.year - 1, on_or_after.year, on_or_after.year + 1):
        solar = lunar_to_solar(year, month, day, leap=leap)
        if solar >= on_or_after:
            return solar
    raise ValueError("no lunar birthday found")


def parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def _build(
    zone: ZoneInfo, group_row: dict | None, store_row: dict | None, overrides: Mapping[dt.date, str]
) -> BusinessCalendar:
    calendar = BusinessCalendar(tz=zone, overrides=overrides)
    for row in (group_row, store_row):
        if row is None:
            continue
        changes = {}
        for f in fields(BusinessCalendar):
            value = row.get(f.name)
            if f.name in ("tz", "overrides") or value is None:
                continue
            changes[f.name] = parse_hhmm(value) if isinstance(value, str) else bool(value)
        calendar = replace(calendar, **changes)
    return calendar


# The official schedule per day, memoised: `chinese_calendar` scans its whole table on every call, which
# dominated planning tens of thousands of callbacks at once.
@functools.lru_cache(maxsize=8192)
def _official_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


@functools.lru_cache(maxsize=8192)
def _official_holiday(day: dt.date) -> bool:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(on_holiday and name)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment
