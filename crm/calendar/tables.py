"""Calendar settings of a group, and per-store overrides (a NULL field inherits)."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from tenants.tables import DealerGroup, Store


class CalendarSetting(Table, tablename="calendar_setting"):
    """营业时间与免打扰时段: the group's row has `store` NULL; a store's row overrides the fields it sets.

    Times are local wall-clock "HH:MM" in the store's timezone. Contact hours are
    when customers may be called or sent SMS; outside them is quiet time.
    """

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=True, default=None)
    open_time = Varchar(length=5, null=True, default=None)
    close_time = Varchar(length=5, null=True, default=None)
    contact_start = Varchar(length=5, null=True, default=None)
    contact_end = Varchar(length=5, null=True, default=None)
    contact_on_weekends = Boolean(null=True, default=None)
    contact_on_holidays = Boolean(null=True, default=None)
    updated_at = Timestamptz()


class CalendarOverride(Table, tablename="calendar_override"):
    """A group's own entry in the holiday schedule: a day off (放假) or a make-up workday (调休上班).

    Consulted before the `chinesecalendar` library, so a group admin can enter the
    State Council's schedule for a year the library does not know yet (or correct a day).
    One row per group and day (unique index in the migration).
    """

    group = ForeignKey(DealerGroup, null=False)
    day = Date()
    kind = Varchar(length=8)  # "holiday" | "workday"
    name = Varchar(length=40, default="")  # 春节, 国庆节 …
    updated_at = Timestamptz()
