"""回访规则、话术与目标: each callback or care rule (when, channel, script) for the group or one store, and the
callback-rate and satisfaction targets. Saved by `crm.callbacks.rules` and `crm.callbacks.statistics`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.settings.menu import settings_context
from api.web.forms import optional_int, store_choices
from crm.callbacks import rules, statistics
from crm.callbacks.scripts import PLACEHOLDERS
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope

CHANNELS = ("phone", "sms")
CHANNEL_TITLES = {"phone": ("电话", "Phone"), "sms": ("短信", "SMS")}
FIELD_TITLES = {
    "offset_hours": ("距触发时间（小时，负数为提前）", "Hours after the trigger (negative: before)"),
    "window_hours": ("完成时限（小时）", "Window to complete (hours)"),
    "retry_hours": ("未接通重拨间隔（小时）", "Retry after (hours)"),
    "max_attempts": ("最多尝试次数", "Attempts at most"),
    "script": ("话术 / 短信内容", "Script / SMS text"),
    "callback_rate_pct": ("回访率目标（%）", "Callback rate target (%)"),
    "satisfaction_rate_pct": ("满意率目标（%）", "Satisfaction rate target (%)"),
}
SURVEYS = ("", "ssi", "csi")
HOURS_FIELDS = {"offset_hours": "offset_minutes", "window_hours": "window_minutes", "retry_hours": "retry_minutes"}


@get("/settings/callback-rules", guards=[requires(*rules.RULE_EDITORS)], include_in_schema=False)
async def rules_page(actor: Scope, store: str = "") -> Template:
    return await _list(actor, await _level(actor, store))


@post("/settings/callback-targets", guards=[requires(*rules.RULE_EDITORS)], include_in_schema=False)
async def targets_submit(request: Request[Scope, Any, Any], actor: Scope, store: str = "") -> Template | Redirect:
    store_id = await _level(actor, store)
    form = await request.form()
    typed = {name: str(form.get(name, "")).strip() for name in ("callback_rate_pct", "satisfaction_rate_pct")}
    try:
        bad = [FieldProblem(name, "请输入 0–100 的整数", "Enter a whole number 0–100") for name, raw in typed.items()
               if not raw.isdigit()]
        if bad:
            raise InvalidInput(bad)
        await statistics.set_callback_targets(actor=actor, store_id=store_id, **{k: int(v) for k, v in typed.items()})
    except InvalidInput as problem:
        return await _list(actor, store_id, targets_form=typed, errors=problem.problems, status_code=400)
    return Redirect(path=_here("/settings/callback-rules", store_id, saved=True), status_code=HTTP_303_SEE_OTHER)


@get("/settings/callback-rules/{kind:str}", guards=[requires(*rules.RULE_EDITORS)], include_in_schema=False)
async def rule_page(actor: Scope, kind: str, store: str = "") -> Template:
    store_id = await _level(actor, store)
    rule = await _rule(actor, kind, store_id)
    return _edit(actor, rule, store_id, _form_of(rule))


@post("/settings/callback-rules/{kind:str}", guards=[requires(*rules.RULE_EDITORS)], include_in_schema=False)
async def rule_submit(request: Request[Scope, Any, Any], actor: Scope, kind: str, store: str = "") -> Template | Redirect:
    store_id = await _level(actor, store)
    rule = await _rule(actor, kind, store_id)
    form = await request.form()
    typed = {name: str(form.get(name, "")).strip() for name in ("channel", "survey", "max_attempts", *HOURS_FIELDS)}
    typed["script"] = str(form.get("script", "")).strip()
    typed["enabled"] = "yes" if form.get("enabled") == "yes" else ""
    try:
        await rules.set_rule(actor=actor, kind=kind, store_id=store_id, changes=_changes(typed))
    except InvalidInput as problem:
        return _edit(actor, rule, store_id, typed, errors=problem.problems, status_code=400)
    return Redirect(path=_here("/settings/callback-rules", store_id, saved=True), status_code=HTTP_303_SEE_OTHER)


@post("/settings/callback-rules/{kind:str}/reset", guards=[requires(*rules.RULE_EDITORS)], include_in_schema=False)
async def rule_reset(actor: Scope, kind: str, store: str = "") -> Redirect:
    store_id = await _level(actor, store)
    await rules.reset_rule(actor=actor, kind=kind, store_id=store_id)
    return Redirect(path=_here("/settings/callback-rules", store_id, saved=True), status_code=HTTP_303_SEE_OTHER)


ROUTES = [rules_page, targets_submit, rule_page, rule_submit, rule_reset]


async def _level(actor: Scope, raw: str) -> int | None:
    """The store asked for (404 when the caller cannot see it); without one, the group's level for a group admin,
    else the caller's first store."""
    store_id = optional_int(raw)
    if store_id is not None:
        actor.require_store(store_id)
        return store_id
    if actor.has_role(Role.GROUP_ADMIN):
        return None
    stores = await store_choices(actor)
    if not stores:
        raise NotFound("store")
    return stores[0]["id"]


async def _rule(actor: Scope, kind: str, store_id: int | None) -> rules.Rule:
    found = {r.kind: r for r in await rules.list_rules(actor=actor, store_id=store_id)}
    if kind not in found:
        raise NotFound("callback_rule")
    return found[kind]


async def _list(actor: Scope, store_id: int | None, *, targets_form: dict | None = None, errors: list | None = None,
                status_code: int = 200) -> Template:
    targets = await statistics.callback_targets(group_id=actor.group_id or -1, store_id=store_id)
    return Template("settings/callback_rules.html", status_code=status_code, context={
        **settings_context(actor, "callback_rules"), "errors": errors or [],
        "rules": await rules.list_rules(actor=actor, store_id=store_id), "store_id": store_id,
        "stores": await store_choices(actor), "group_admin": actor.has_role(Role.GROUP_ADMIN), "targets": targets,
        "targets_form": targets_form or {"callback_rate_pct": str(round(targets.callback_rate * 100)),
                                         "satisfaction_rate_pct": str(round(targets.satisfaction_rate * 100))},
        "query": _here("", store_id), "channel_titles": CHANNEL_TITLES, "field_titles": FIELD_TITLES,
    })


def _edit(actor: Scope, rule: rules.Rule, store_id: int | None, form: dict, *, errors: list | None = None,
          status_code: int = 200) -> Template:
    return Template("settings/callback_rule.html", status_code=status_code, context={
        **settings_context(actor, "callback_rules"), "rule": rule, "form": form, "errors": errors or [],
        "store_id": store_id, "channels": CHANNELS, "channel_titles": CHANNEL_TITLES, "field_titles": FIELD_TITLES, "surveys": SURVEYS, "placeholders": sorted(PLACEHOLDERS),
        "query": _here("", store_id),
    })


def _form_of(rule: rules.Rule) -> dict[str, str]:
    return {"channel": rule.channel, "survey": rule.survey, "max_attempts": str(rule.max_attempts),
            "offset_hours": _hours(rule.offset_minutes), "window_hours": _hours(rule.window_minutes),
            "retry_hours": _hours(rule.retry_minutes), "script": rule.script, "enabled": "yes" if rule.enabled else ""}


def _changes(typed: dict[str, str]) -> dict[str, Any]:
    """The form in hours, as people think of them → the rule's fields in minutes; unreadable numbers are field problems."""
    problems: list[FieldProblem] = []
    changes: dict[str, Any] = {"channel": typed["channel"], "survey": typed["survey"], "script": typed["script"],
                               "enabled": typed["enabled"] == "yes"}
    for field, minutes_field in HOURS_FIELDS.items():
        try:
            changes[minutes_field] = round(float(typed[field]) * 60)
        except ValueError:
            problems.append(FieldProblem(field, "请输入数字", "Enter a number"))
    if typed["max_attempts"].isdigit():
        changes["max_attempts"] = int(typed["max_attempts"])
    else:
        problems.append(FieldProblem("max_attempts", "请输入整数", "Enter a whole number"))
    if problems:
        raise InvalidInput(problems)
    return changes


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g}"


def _here(path: str, store_id: int | None, *, saved: bool = False) -> str:
    query = [f"store={store_id}"] if store_id is not None else []
    query += ["saved=1"] if saved else []
    return path + ("?" + "&".join(query) if query else "")
