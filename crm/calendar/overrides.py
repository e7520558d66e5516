"""The group's own holiday schedule (放假 / 调休上班) and which years the calendar knows.

`chinesecalendar` only carries the years the State Council had published when the
installed release was cut (2004–2026 for 1.11.0). A group admin enters a newer
year's schedule here; the calendar consults these entries before the library.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crm import clock, lists
from crm.calendar.service import HOLIDAY, WORKDAY, calendar_for_group, library_covers
from crm.calendar.tables import CalendarOverride
from crm.db import transaction
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope

KINDS = (HOLIDAY, WORKDAY)
COVERAGE_HORIZON = dt.timedelta(days=365)
# Who may enter the group's holiday schedule (调休/节假日) — and so is told when a year is missing.
OVERRIDE_EDITORS = frozenset({Role.GROUP_ADMIN})


@dataclass(frozen=True)
class OverrideEntry:
    day: dt.date
    kind: str
    name: str = ""


OVERRIDE_LIST = lists.ListSpec(
    name="calendar_overrides",
    sorts={"day": (CalendarOverride.day,), "kind": (CalendarOverride.kind,), "name": (CalendarOverride.name,)},
    default_sort="day",
    tiebreak=CalendarOverride.id,
    page_size=100,
)


async def list_overrides(*, actor: Scope, year: int | None = None) -> list[dict[str, Any]]:
    """The group's entries of a year (or all), by day: the settings page shows a year whole."""
    return (await override_page(actor=actor, year=year, want=None)).items


async def override_page(*, actor: Scope, year: int | None = None, want: lists.ListQuery | None
                        ) -> lists.Page[dict[str, Any]]:
    """The group's entries, of a year or all: a page with the total (`want`), or all of them by day (None)."""
    where = [] if year is None else [
        (CalendarOverride.day >= dt.date(year, 1, 1)) & (CalendarOverride.day <= dt.date(year, 12, 31))]
    return await lists.fetch_page(
        OVERRIDE_LIST, want, rows=actor.filter_group(CalendarOverride.select(), CalendarOverride).where(*where),
        count=actor.filter_group(CalendarOverride.count(), CalendarOverride).where(*where), item=_out)


async def set_overrides(*, actor: Scope, entries: list[OverrideEntry]) -> list[dict[str, Any]]:
    """Add or replace (by day) entries of the group's schedule; all or nothing."""
    actor.require_role(*OVERRIDE_EDITORS)
    _validate(entries)
    now = clock.now()
    async with transaction():
        found = await actor.filter_group(CalendarOverride.select(), CalendarOverride).where(
            CalendarOverride.day.is_in([e.day for e in entries])
        )
        existing = {r["day"]: r["id"] for r in found}
        for e in entries:
            if e.day in existing:
                await actor.update(
                    CalendarOverride,
                    {CalendarOverride.kind: e.kind, CalendarOverride.name: e.name, CalendarOverride.updated_at: now},
                ).where(CalendarOverride.id == existing[e.day])
            else:
                await CalendarOverride.insert(
                    CalendarOverride(group=actor.group_id, day=e.day, kind=e.kind, name=e.name, updated_at=now)
                )
        rows = await actor.filter_group(CalendarOverride.select(), CalendarOverride).where(
            CalendarOverride.day.is_in([e.day for e in entries])
        ).order_by(CalendarOverride.day)
        await audit.record(actor, "calendar.overrides", "group", actor.group_id,
                           before={r["day"].isoformat(): _entry(r) for r in found},
                           after={r["day"].isoformat(): _entry(r) for r in rows})
    return [_out(r) for r in rows]


async def delete_override(*, actor: Scope, override_id: int) -> None:
    actor.require_role(*OVERRIDE_EDITORS)
    async with transaction():
        row = await actor.filter_group(CalendarOverride.select(), CalendarOverride).where(
            CalendarOverride.id == override_id
        ).first()
        if row is None:
            raise NotFound("calendar override")
        await actor.delete(CalendarOverride).where(CalendarOverride.id == override_id)
        await audit.record(actor, "calendar.override.delete", "calendar_override", override_id,
                           before={row["day"].isoformat(): _entry(row)}, after=None)


async def uncovered_years_to_tell(*, actor: Scope) -> list[int]:
    """Years without a known holiday schedule, for the one who can enter it; nothing for anyone else."""
    if not actor.has_role(*OVERRIDE_EDITORS):
        return []
    return (await coverage(actor=actor))["uncovered"]


async def coverage(*, actor: Scope) -> dict[str, Any]:
    """For each year the next 12 months touch: whether its holiday schedule is known, and from where."""
    calendar = await calendar_for_group(actor.group_id or -1)
    today = clock.now().astimezone(calendar.tz).date()
    years = range(today.year, (today + COVERAGE_HORIZON).year + 1)
    counts: dict[int, int] = {}
    for day in calendar.overrides:
        counts[day.year] = counts.get(day.year, 0) + 1
    rows = [
        {"year": y, "library": library_covers(y), "overrides": counts.get(y, 0), "covered": calendar.covers(y)}
        for y in years
    ]
    return {
        "from": today.isoformat(),
        "until": (today + COVERAGE_HORIZON).isoformat(),
        "years": rows,
        "uncovered": [r["year"] for r in rows if not r["covered"]],
    }


def _validate(entries: list[OverrideEntry]) -> None:
    problems = []
    if not entries:
        problems.append(FieldProblem("overrides", "请至少填写一天", "Give at least one day"))
    seen: set[dt.date] = set()
    for i, e in enumerate(entries):
        if e.kind not in KINDS:
            problems.append(FieldProblem(f"overrides[{i}].kind", "类型只能是放假或调休上班",
                                         "Kind must be holiday or workday"))
        if e.day in seen:
            problems.append(FieldProblem(f"overrides[{i}].day", "同一天重复填写", "The same day is given twice"))
        seen.add(e.day)
    if problems:
        raise InvalidInput(problems)


def _entry(row: dict[str, Any]) -> str:
    """An entry as the audit log shows it: "holiday 春节"."""
    return f"{row['kind']} {row['name']}".strip()


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "day": row["day"].isoformat(), "kind": row["kind"], "name": row["name"]}
