"""Business calendar settings API (营业时间 / 免打扰时段): the group's, and each store's overrides;
the group's holiday schedule entries (放假 / 调休上班) and which years the calendar knows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import delete, get, post, put
from litestar.params import Parameter

from api.lists import PageParam, PageSizeParam, SortParam
from api.params import IdParam, text
from crm import lists
from crm.lists import Page
from crm.calendar import overrides
from crm.calendar.settings import effective_settings, update_settings
from tenants.scope import Scope

TAGS = ["calendar"]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class CalendarSettingsIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Fields to set; an explicit null clears a store's override (back to the group's value)."""

    open_time: HHMM | None | msgspec.UnsetType = msgspec.UNSET
    close_time: HHMM | None | msgspec.UnsetType = msgspec.UNSET
    contact_start: HHMM | None | msgspec.UnsetType = msgspec.UNSET
    contact_end: HHMM | None | msgspec.UnsetType = msgspec.UNSET
    contact_on_weekends: bool | None | msgspec.UnsetType = msgspec.UNSET
    contact_on_holidays: bool | None | msgspec.UnsetType = msgspec.UNSET


@get("/api/v1/calendar", tags=TAGS)
async def group_calendar(actor: Scope) -> dict[str, Any]:
    """The group's calendar settings."""
    return await effective_settings(actor=actor)


@put("/api/v1/calendar", tags=TAGS)
async def put_group_calendar(actor: Scope, data: CalendarSettingsIn) -> dict[str, Any]:
    """Change the group's calendar settings (opening and contact hours, weekends, holidays); omitted fields keep
    their value."""
    return await update_settings(actor=actor, store_id=None, changes=_changes(data))


@get("/api/v1/stores/{store_id:int}/calendar", tags=TAGS)
async def store_calendar(actor: Scope, store_id: IdParam) -> dict[str, Any]:
    """A store's calendar in force: the group's settings with the store's overrides."""
    return await effective_settings(actor=actor, store_id=store_id)


@put("/api/v1/stores/{store_id:int}/calendar", tags=TAGS)
async def put_store_calendar(actor: Scope, store_id: IdParam, data: CalendarSettingsIn) -> dict[str, Any]:
    """Change one store's calendar settings over the group's; omitted fields keep their value."""
    return await update_settings(actor=actor, store_id=store_id, changes=_changes(data))


class OverrideIn(msgspec.Struct, forbid_unknown_fields=True):
    day: dt.date
    kind: Literal["holiday", "workday"]  # 放假 / 调休上班
    name: text(40) = ""


class OverridesIn(msgspec.Struct, forbid_unknown_fields=True):
    overrides: Annotated[list[OverrideIn], msgspec.Meta(min_length=1, max_length=400)]


@get("/api/v1/calendar/overrides", tags=TAGS)
async def list_overrides(
    actor: Scope, year: Annotated[int | None, Parameter(ge=1900, le=9998)] = None, sort: SortParam = "",
    page: PageParam = 1, page_size: PageSizeParam = None,
) -> Page[dict[str, Any]]:
    """The group's own holiday schedule entries (consulted before the built-in schedule), of a `year` or all; one
    page with the total. `sort`: `day` (default), `kind`, `name`; `-key` for descending."""
    want = overrides.OVERRIDE_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await overrides.override_page(actor=actor, year=year, want=want)


@post("/api/v1/calendar/overrides", tags=TAGS, status_code=200)
async def put_overrides(actor: Scope, data: OverridesIn) -> Page[dict[str, Any]]:
    """Add or replace (by day) entries: e.g. a year's State Council schedule. Group admins only. Answers the saved
    entries, by day, in the list envelope (all on one page)."""
    entries = [overrides.OverrideEntry(day=o.day, kind=o.kind, name=o.name.strip()) for o in data.overrides]
    return lists.whole(await overrides.set_overrides(actor=actor, entries=entries), sort="day")


@delete("/api/v1/calendar/overrides/{override_id:int}", tags=TAGS, status_code=204)
async def delete_override(actor: Scope, override_id: IdParam) -> None:
    """Remove a day override (an extra holiday or working day) from the calendar."""
    await overrides.delete_override(actor=actor, override_id=override_id)


@get("/api/v1/calendar/coverage", tags=TAGS)
async def calendar_coverage(actor: Scope) -> dict[str, Any]:
    """Years within the next 12 months and whether their holiday schedule is known (`uncovered` lists those not)."""
    return await overrides.coverage(actor=actor)


ROUTES = [group_calendar, put_group_calendar, store_calendar, put_store_calendar,
          list_overrides, put_overrides, delete_override, calendar_coverage]


def _changes(data: CalendarSettingsIn) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
