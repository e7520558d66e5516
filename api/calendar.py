"""Business calendar settings API (营业时间 / 免打扰时段): the group's, and each store's overrides."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, put

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
    return await update_settings(actor=actor, store_id=None, changes=_changes(data))


@get("/api/v1/stores/{store_id:int}/calendar", tags=TAGS)
async def store_calendar(actor: Scope, store_id: int) -> dict[str, Any]:
    """A store's calendar in force: the group's settings with the store's overrides."""
    return await effective_settings(actor=actor, store_id=store_id)


@put("/api/v1/stores/{store_id:int}/calendar", tags=TAGS)
async def put_store_calendar(actor: Scope, store_id: int, data: CalendarSettingsIn) -> dict[str, Any]:
    return await update_settings(actor=actor, store_id=store_id, changes=_changes(data))


ROUTES = [group_calendar, put_group_calendar, store_calendar, put_store_calendar]


def _changes(data: CalendarSettingsIn) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
