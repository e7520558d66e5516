"""营业时间、联系时段与节假日: the group's hours and contact window, a store's overrides of them, and the
group's holiday schedule (放假 / 调休上班) with the coverage of the coming year. Saved by `crm.calendar`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.settings.menu import settings_context
from api.web.forms import existing_id, optional_int, store_choices
from crm.calendar import overrides
from crm.calendar.settings import FIELDS, GROUP_EDITORS, STORE_EDITORS, effective_settings, update_settings
from crm.setting_screens import SCREENS
from tenants.errors import FieldProblem, InvalidInput
from tenants.scope import Scope

FIELD_TITLES = {
    "open_time": ("营业开始", "Opens"),
    "close_time": ("营业结束", "Closes"),
    "contact_start": ("联系客户开始", "Contact from"),
    "contact_end": ("联系客户结束", "Contact until"),
    "contact_on_weekends": ("周末可联系客户", "Contact on weekends"),
    "contact_on_holidays": ("节假日可联系客户", "Contact on holidays"),
}
KIND_TITLES = {"holiday": ("放假", "Holiday"), "workday": ("调休上班", "Make-up workday")}
KIND_WORDS = {"放假": "holiday", "休": "holiday", "假": "holiday", "holiday": "holiday",
              "上班": "workday", "调休上班": "workday", "班": "workday", "调休": "workday", "workday": "workday"}


@get("/settings/calendar", guards=[requires(*SCREENS["calendar"])], include_in_schema=False)
async def calendar_page(actor: Scope, store: str = "", year: str = "") -> Template:
    return await _page(actor, store_id=await _store_of(actor, store), year=_year(year))


@post("/settings/calendar", guards=[requires(*GROUP_EDITORS)], include_in_schema=False)
async def group_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = await request.form()
    try:
        await update_settings(actor=actor, store_id=None, changes=_changes(form, store_level=False))
    except InvalidInput as problem:
        return await _page(actor, store_id=None, group_form=dict(form), errors=problem.problems, status_code=400)
    return Redirect(path="/settings/calendar?saved=1", status_code=HTTP_303_SEE_OTHER)


@post("/settings/calendar/store", guards=[requires(*STORE_EDITORS)], include_in_schema=False)
async def store_submit(request: Request[Scope, Any, Any], actor: Scope, store: str = "") -> Template | Redirect:
    store_id = optional_int(store)
    if store_id is None:
        raise InvalidInput.one("store", "请选择门店", "Choose a store")
    form = await request.form()
    try:
        await update_settings(actor=actor, store_id=store_id, changes=_changes(form, store_level=True))
    except InvalidInput as problem:
        return await _page(actor, store_id=store_id, store_form=dict(form), errors=problem.problems, status_code=400)
    return Redirect(path=f"/settings/calendar?store={store_id}&saved=1", status_code=HTTP_303_SEE_OTHER)


@post("/settings/calendar/overrides", guards=[requires(*overrides.OVERRIDE_EDITORS)], include_in_schema=False)
async def overrides_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = await request.form()
    text = str(form.get("entries", ""))
    try:
        entries = _entries(text)
        saved = await overrides.set_overrides(actor=actor, entries=entries)
    except InvalidInput as problem:
        return await _page(actor, store_id=None, entries_text=text, errors=_by_line(problem.problems),
                           status_code=400)
    return Redirect(path=f"/settings/calendar?year={saved[0]['day'][:4]}&saved=1", status_code=HTTP_303_SEE_OTHER)


@post("/settings/calendar/overrides/{override_id:int}/delete", guards=[requires(*overrides.OVERRIDE_EDITORS)],
      include_in_schema=False)
async def override_delete(actor: Scope, override_id: int, year: str = "") -> Redirect:
    existing_id(override_id, "calendar override")
    await overrides.delete_override(actor=actor, override_id=override_id)
    return Redirect(path=f"/settings/calendar?year={_year(year)}&saved=1", status_code=HTTP_303_SEE_OTHER)


ROUTES = [calendar_page, group_submit, store_submit, overrides_submit, override_delete]


async def _page(actor: Scope, *, store_id: int | None, year: int | None = None, group_form: dict | None = None,
                store_form: dict | None = None, entries_text: str = "", errors: list | None = None,
                status_code: int = 200) -> Template:
    group_admin = actor.has_role(*GROUP_EDITORS)
    stores = await store_choices(actor) if actor.has_role(*STORE_EDITORS) else []
    if store_id is None and not group_admin and stores:
        store_id = stores[0]["id"]
    context: dict[str, Any] = {**settings_context(actor, "calendar"), "fields": FIELDS, "field_titles": FIELD_TITLES,
                               "kind_titles": KIND_TITLES, "errors": errors or [],
                               "group_admin": group_admin, "stores": stores, "store_id": store_id,
                               "entries_text": entries_text}
    if group_admin:
        group = await effective_settings(actor=actor)
        context["group"] = group
        context["group_form"] = group_form or {f: _shown(group[f]) for f in FIELDS}
    if store_id is not None:
        store = await effective_settings(actor=actor, store_id=store_id)
        context["store"] = store
        context["store_form"] = store_form or {f: _shown(store["overrides"].get(f)) for f in FIELDS}
    if actor.has_role(*overrides.OVERRIDE_EDITORS):
        coverage = await overrides.coverage(actor=actor)
        shown_year = year or coverage["years"][0]["year"]
        context.update(coverage=coverage, year=shown_year,
                       entries=await overrides.list_overrides(actor=actor, year=shown_year))
    return Template("settings/calendar.html", context=context, status_code=status_code)


async def _store_of(actor: Scope, raw: str) -> int | None:
    """The store asked for; one the caller cannot see is a 404 (as for every other store id)."""
    store_id = optional_int(raw)
    if store_id is not None:
        actor.require_store(store_id)
    return store_id


def _year(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 1900 <= int(raw) <= 9998 else None


def _changes(form: Any, *, store_level: bool) -> dict[str, Any]:
    """The form's fields: an empty time (or "inherit") is None — back to the group's value, or the default."""
    changes: dict[str, Any] = {}
    for name in FIELDS:
        raw = str(form.get(name, "")).strip()
        if name.startswith("contact_on_"):
            if store_level:
                changes[name] = {"yes": True, "no": False}.get(raw)
            else:
                changes[name] = raw == "yes"
        else:
            changes[name] = raw or None
    return changes


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _entries(text: str) -> list[overrides.OverrideEntry]:
    """Lines "2027-02-06 放假 春节" → entries; a line that cannot be read is a problem naming its line."""
    entries, problems = [], []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = line.replace(",", " ").replace(",", " ").split(maxsplit=2)
        try:
            day = dt.date.fromisoformat(parts[0])
        except ValueError:
            problems.append(FieldProblem("entries", f"第{number}行：日期应为 YYYY-MM-DD", f"Line {number}: use YYYY-MM-DD"))
            continue
        kind = KIND_WORDS.get(parts[1] if len(parts) > 1 else "")
        if kind is None:
            problems.append(FieldProblem("entries", f"第{number}行：类型应为“放假”或“上班”",
                                         f"Line {number}: the kind is 放假 or 上班"))
            continue
        name = parts[2] if len(parts) > 2 else ""
        if len(name) > 40:
            problems.append(FieldProblem("entries", f"第{number}行：名称最多40个字", f"Line {number}: at most 40 characters"))
            continue
        entries.append(overrides.OverrideEntry(day=day, kind=kind, name=name))
    if not lines:
        problems.append(FieldProblem("entries", "请至少填写一天", "Give at least one day"))
    if problems:
        raise InvalidInput(problems)
    return entries


def _by_line(problems: list[FieldProblem]) -> list[FieldProblem]:
    """The service names entries by index (`overrides[2].day`): on this form that is the textarea's line 3."""
    shown = []
    for p in problems:
        if p.field.startswith("overrides["):
            line = int(p.field[len("overrides["):].split("]")[0]) + 1
            p = FieldProblem("entries", f"第{line}行：{p.zh}", f"Line {line}: {p.en}")
        elif p.field == "overrides":
            p = FieldProblem("entries", p.zh, p.en)
        shown.append(p)
    return shown
