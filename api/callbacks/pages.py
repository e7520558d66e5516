"""The callback agents' pages (回访工作台): the queue, the call screen, weekly/monthly statistics.

Built for an agent making 100 calls a day: "next call" claims the most urgent call
and opens it; the call screen shows the filled-in script next to the customer, and
"save and next" records the outcome and opens the following call in one step.
Keyboard: N next call, 1–4 the outcome, Y/U satisfied or not, Ctrl+Enter save and
next, Esc put the call back. Every rule lives in `crm.callbacks`; these handlers
only translate forms and render.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from api.auth import requires
from api.i18n import language_of
from api.lists import ListView, export_response, filtered_by
from api.web.forms import existing_id, optional_int, page_or_fragment, store_choices
from crm.callbacks import service, statistics
from crm.callbacks.surveys import LEVELS, NOT_APPLICABLE
from crm.callbacks.rules import DEFAULT_RULES
from crm.callbacks.service import (
    CALLBACK_READERS,
    CALLBACK_WORKERS,
    OUTCOME_LABELS,
    OUTCOMES,
    STATES,
)
from crm.customers.fields import CORRECTABLE
from tenants.errors import Conflict, InvalidInput, NotFound
from tenants.scope import Scope, timezone_of

KIND_LABELS = {kind: (rule.label_zh, rule.label_en) for kind, rule in DEFAULT_RULES.items()}
NOT_APPLICABLE_WORDS = {"不适用", "na", "n/a", NOT_APPLICABLE}
LEVEL_KEYS = {"satisfied": "y", "dissatisfied": "u"}  # the call screen's keys for the two commonest answers


@get("/callbacks", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
async def queue_page(request: Request[Scope, Any, Any], actor: Scope, store: int | None = None) -> Template:
    """The work queue; the htmx refresh (every minute) gets only the lists."""
    store_id = _store_filter(actor, store)
    queue = await service.work_queue(actor=actor, store_id=store_id)
    context = {"queue": queue, "store_id": store_id, "stores": await store_choices(actor),
               "may_work": actor.has_role(*CALLBACK_WORKERS)}
    return page_or_fragment(request, page="callbacks/queue.html", fragment="callbacks/_queue.html", context=context)


def callback_page_filter(actor: Scope, in_state: Annotated[str, Parameter(query="state")] = "", kind: str = "",
                         store: str = "") -> service.CallbackFilter:
    """The list's filters from the URL; a value the list does not know keeps every row, as the filter's "any"
    choice would."""
    store_id = optional_int(store)
    return service.CallbackFilter(state=in_state if in_state in STATES else "",
                                  kind=kind if kind in KIND_LABELS else "",
                                  store_id=store_id if store_id in actor.store_ids else None)


@get("/callbacks/list", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
@filtered_by(callback_page_filter)
async def list_page(actor: Scope, filters: service.CallbackFilter, sort: str = "", page: str = "",
                    page_size: str = "") -> Template:
    """Every callback of the reader's stores, filtered, sorted and paged; exported as shown."""
    want = service.CALLBACK_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await service.list_callbacks(actor=actor, filters=filters, want=want)
    return Template("callbacks/list.html", context={
        "items": found.items, "filters": filters, "states": STATES, "kinds": KIND_LABELS,
        "stores": await store_choices(actor),
        "view": ListView("/callbacks/list", service.CALLBACK_LIST, want, found,
                         {"state": filters.state, "kind": filters.kind, "store": filters.store_id},
                         export_path="/callbacks/list/export"),
    })


@get("/callbacks/list/export", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
@filtered_by(callback_page_filter)
async def list_export(
    request: Request[Scope, Any, Any], actor: Scope, filters: service.CallbackFilter, sort: str = "",
    format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx",
) -> Response:
    items = await service.export_callbacks(actor=actor, filters=filters, want=service.CALLBACK_LIST.parse(sort=sort))
    return export_response(service.CALLBACK_EXPORT, items, format=format, name=service.CALLBACK_LIST.name,
                           zone=await timezone_of(group=actor.group_id), english=language_of(request) == "en")


@post("/callbacks/next", guards=[requires(*CALLBACK_WORKERS)], include_in_schema=False)
async def next_call(request: Request[Scope, Any, Any], actor: Scope) -> Redirect:
    form = await request.form()
    store_id = _store_filter(actor, _int(form.get("store")))
    detail = await service.claim_next(actor=actor, store_id=store_id)
    if detail is None:
        return Redirect(path=f"/callbacks?empty=1{f'&store={store_id}' if store_id else ''}")
    return Redirect(path=f"/callbacks/{detail.id}")


@get("/callbacks/{callback_id:int}", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
async def call_page(actor: Scope, callback_id: int) -> Template:
    return await _call_screen(actor, existing_id(callback_id, "callback"))


@post("/callbacks/{callback_id:int}/claim", guards=[requires(*CALLBACK_WORKERS)], include_in_schema=False)
async def claim(actor: Scope, callback_id: int) -> Template | Redirect:
    try:
        await service.claim_callback(actor=actor, callback_id=existing_id(callback_id, "callback"))
    except Conflict as conflict:
        return await _call_screen(actor, callback_id, error=conflict.zh, status=409)
    return Redirect(path=f"/callbacks/{callback_id}")


@post("/callbacks/{callback_id:int}/release", guards=[requires(*CALLBACK_WORKERS)], include_in_schema=False)
async def release(actor: Scope, callback_id: int) -> Redirect:
    await service.release_callback(actor=actor, callback_id=existing_id(callback_id, "callback"))
    return Redirect(path="/callbacks")


@post("/callbacks/{callback_id:int}/outcome", guards=[requires(*CALLBACK_WORKERS)], include_in_schema=False)
async def record_outcome(request: Request[Scope, Any, Any], actor: Scope, callback_id: int) -> Template | Redirect:
    """Save the call; "save and next" opens the next call at once, or the queue when none is due."""
    existing_id(callback_id, "callback")
    form = await request.form()
    outcome = str(form.get("outcome", ""))
    # The five-level radio keeps the form name "satisfied" that the call screen's keys (Y/U) choose from.
    satisfaction = str(form.get("satisfied", "")) or None
    scores = {key[6:]: _score(value) for key, value in form.items() if key.startswith("score_") and value != ""}
    if form.get("survey_declined") == "1":
        scores = {}  # the scores typed before ticking "declined" are not the customer's answers
    corrections = {key[4:]: str(value).strip() for key, value in form.items()
                   if key.startswith("fix_") and str(value).strip()}
    try:
        if any(v is None for v in scores.values()):
            raise InvalidInput.one("scores", "评分应为1–10分或“不适用”", "Scores are 1–10 or na")
        result = await service.record_outcome(
            actor=actor, callback_id=callback_id, outcome=outcome,
            satisfaction=satisfaction if outcome == "reached" else None, scores=scores if outcome == "reached" else {},
            comment=str(form.get("comment", "")).strip()[:2000], corrections=corrections,
            do_not_call=form.get("do_not_call") == "1",
            correction_reason=str(form.get("correction_reason", "")).strip()[:2000],
            survey_declined=outcome == "reached" and form.get("survey_declined") == "1",
        )
    except InvalidInput as invalid:
        return await _call_screen(actor, callback_id, problems=invalid.problems, form=dict(form), status=400)
    except Conflict as conflict:
        return await _call_screen(actor, callback_id, error=conflict.zh, status=409)
    if form.get("then") == "next":
        detail = await service.claim_next(actor=actor, store_id=_store_filter(actor, _int(form.get("store"))))
        if detail is not None:
            return Redirect(path=f"/callbacks/{detail.id}?saved={callback_id}")
        return Redirect(path="/callbacks?empty=1")
    return Redirect(path=f"/callbacks/{result.id}?saved={callback_id}")


@get("/callback-stats", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
async def stats_page(actor: Scope, store: int | None = None, period: str = "month", day: str = "") -> Template:
    """This month by default; a reader of several stores (HQ) first sees every store and the total, a store
    reader their store."""
    stores = await store_choices(actor)
    try:
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    period = period if period in ("week", "month") else "month"
    context: dict[str, Any] = {"stores": stores, "period": period}
    store_id = _store_filter(actor, store)
    if store_id is None and len(actor.store_ids) > 1:
        overview = await statistics.group_statistics(actor=actor, period=period, day=chosen)
        return Template("callbacks/stats.html", context=context | {
            "overview": overview, "store_id": None, "day": (chosen or overview.start).isoformat()})
    store_id = store_id or (stores[0]["id"] if stores else None)
    if store_id is None:
        raise NotFound("store")
    stats = await statistics.callback_statistics(actor=actor, store_id=store_id, period=period, day=chosen)
    return Template("callbacks/stats.html", context=context | {
        "stats": stats, "store_id": store_id, "day": (chosen or stats.start).isoformat()})


async def _call_screen(actor: Scope, callback_id: int, *, problems=None, error: str = "", form=None,
                       status: int = 200) -> Template:
    detail = await service.callback_detail(actor=actor, callback_id=callback_id)
    return Template("callbacks/call.html", status_code=status, context={
        "cb": detail, "levels": LEVELS, "level_keys": LEVEL_KEYS, "outcomes": OUTCOMES, "outcome_labels": OUTCOME_LABELS, "states": STATES,
        "problems": problems or [], "error": error,
        "fix_open": any(p.field.startswith("corrections") for p in problems or []),
        "form": form or {}, "may_work": actor.has_role(*CALLBACK_WORKERS),
        "correctable": [(name, spec) for name, spec in CORRECTABLE.items()
                        if spec.record == "customer" or detail.vehicle],
        "open": detail.state == "due",
    })


def _store_filter(actor: Scope, store: int | None) -> int | None:
    if store is None:
        return actor.home_store_id if not actor.is_group_level else None
    actor.require_store(store)
    return store


def _score(value) -> int | str | None:
    """A typed score: 1–10, or "not applicable" as 不适用 / na / N/A."""
    text = str(value).strip()
    if text.lower() in NOT_APPLICABLE_WORDS:
        return NOT_APPLICABLE
    return _int(text)


def _int(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


ROUTES = [queue_page, list_page, list_export, next_call, call_page, claim, release, record_outcome, stats_page]
