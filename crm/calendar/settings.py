"""Reading and changing calendar settings: the group's (group admin) and a store's overrides (group admin, store GM)."""

from __future__ import annotations

from typing import Any

from crm import clock
from crm.calendar.service import BusinessCalendar, calendar_for_group, calendar_for_store, parse_hhmm
from crm.calendar.tables import CalendarSetting
from crm.db import transaction
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

FIELDS = ("open_time", "close_time", "contact_start", "contact_end", "contact_on_weekends", "contact_on_holidays")
# Who sets the group's hours and contact window (营业时间 / 联系时段), and who a store's overrides.
GROUP_EDITORS = frozenset({Role.GROUP_ADMIN})
STORE_EDITORS = frozenset({Role.GROUP_ADMIN, Role.STORE_GM})


async def effective_settings(*, actor: Scope, store_id: int | None = None) -> dict[str, Any]:
    """The settings in force (after inheritance) and the fields this level sets itself."""
    if store_id is None:
        calendar = await calendar_for_group(actor.group_id or -1)
    else:
        calendar = await calendar_for_store(actor.require_store(store_id))
    own = await _own_row(actor, store_id)
    return {
        "store_id": store_id,
        "timezone": calendar.tz.key,
        **describe(calendar),
        "overrides": {f: own[f] for f in FIELDS if own and own[f] is not None},
    }


async def update_settings(*, actor: Scope, store_id: int | None, changes: dict[str, Any]) -> dict[str, Any]:
    """Set (or, with None, clear back to inherited) fields of the group's or a store's settings."""
    require_editor(actor, store_id)
    _validate(changes)
    async with transaction():
        own = await _own_row(actor, store_id)
        before = {f: own[f] for f in FIELDS} if own else {f: None for f in FIELDS}
        values = {getattr(CalendarSetting, k): v for k, v in changes.items()}
        values[CalendarSetting.updated_at] = clock.now()
        if own is None:
            await CalendarSetting.insert(
                CalendarSetting(group=actor.group_id, store=store_id, updated_at=clock.now(), **changes)
            )
        else:
            await actor.update(CalendarSetting, values, group_rows=True).where(CalendarSetting.id == own["id"])
        merged = await effective_settings(actor=actor, store_id=store_id)
        if merged["open_time"] >= merged["close_time"]:
            raise InvalidInput.one("close_time", "结束时间必须晚于开始时间", "The end must be after the start")
        if merged["contact_start"] >= merged["contact_end"]:
            raise InvalidInput.one("contact_end", "结束时间必须晚于开始时间", "The end must be after the start")
        await audit.record(actor, "calendar.settings", "store" if store_id else "group", store_id or actor.group_id,
                           before=before, after={**before, **changes})
    return merged


def require_editor(actor: Scope, store_id: int | None) -> None:
    """The group's settings are the group admin's; a store's overrides also its GM's (of that store only)."""
    if store_id is None:
        actor.require_role(*GROUP_EDITORS)
    else:
        actor.require_store(store_id)
        actor.require_role(*STORE_EDITORS)


def describe(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "open_time": calendar.open_time.strftime("%H:%M"),
        "close_time": calendar.close_time.strftime("%H:%M"),
        "contact_start": calendar.contact_start.strftime("%H:%M"),
        "contact_end": calendar.contact_end.strftime("%H:%M"),
        "contact_on_weekends": calendar.contact_on_weekends,
        "contact_on_holidays": calendar.contact_on_holidays,
    }


async def _own_row(actor: Scope, store_id: int | None) -> dict[str, Any] | None:
    query = actor.select(CalendarSetting, group_rows=True)  # the group's row (store NULL) or a store's
    query = query.where(CalendarSetting.store.is_null() if store_id is None else CalendarSetting.store == store_id)
    return await query.first()


def _validate(changes: dict[str, Any]) -> None:
    problems = []
    for name in ("open_time", "close_time", "contact_start", "contact_end"):
        value = changes.get(name)
        if value is None:
            continue
        try:
            parse_hhmm(value)
        except ValueError:
            problems.append(FieldProblem(name, "时间格式应为 HH:MM", "Use HH:MM"))
    if problems:
        raise InvalidInput(problems)
