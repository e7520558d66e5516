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
from api.i18n import extend, language_of
from api.lists import ListView, export_response
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

extend({
    "callbacks.title": ("回访工作台", "Callbacks"),
    "callbacks.stats.title": ("回访统计", "Callback statistics"),
    "callbacks.next": ("下一个回访", "Next call"),
    "callbacks.next.hint": ("快捷键 N", "Shortcut N"),
    "callbacks.none_due": ("当前没有到期的回访电话。", "No calls are due right now."),
    "callbacks.mine": ("我正在处理", "My current call"),
    "callbacks.overdue": ("已逾期", "Overdue"),
    "callbacks.due": ("待回访", "Due now"),
    "callbacks.upcoming": ("即将到期(3天内)", "Upcoming (3 days)"),
    "callbacks.all_stores": ("全部门店", "All stores"),
    "callbacks.store": ("门店", "Store"),
    "callbacks.list.title": ("全部回访", "All callbacks"),
    "callbacks.list.link": ("全部回访列表", "All callbacks"),
    "callbacks.list.more": ("共 {n} 条，查看全部", "{n} in all: see the list"),
    "callbacks.list.state": ("状态", "State"),
    "callbacks.list.kind": ("回访类型", "Kind"),
    "callbacks.list.any": ("全部", "Any"),
    "callbacks.list.apply": ("筛选", "Filter"),
    "callbacks.col.kind": ("回访类型", "Kind"),
    "callbacks.col.customer": ("客户", "Customer"),
    "callbacks.col.mobile": ("电话", "Phone"),
    "callbacks.col.car": ("车辆", "Car"),
    "callbacks.col.due": ("计划时间", "Due"),
    "callbacks.col.deadline": ("截止", "Deadline"),
    "callbacks.col.attempts": ("已拨次数", "Attempts"),
    "callbacks.col.claimed": ("处理人", "Agent"),
    "callbacks.keys": ("快捷键:N 下一个 · ↑↓ 选择 · Enter 打开", "Keys: N next · ↑↓ select · Enter open"),
    "callbacks.call.script": ("回访话术", "Script"),
    "callbacks.call.customer": ("客户信息", "Customer"),
    "callbacks.call.source": ("回访事由", "Follows up"),
    "callbacks.call.history": ("回访记录", "History"),
    "callbacks.call.outcome": ("回访结果", "Outcome"),
    "callbacks.call.satisfied": ("客户总体满意程度", "Overall satisfaction"),
    "callbacks.call.scores": ("满意度评分(必填,每项1–10分,不适用填“不适用”或 na)",
                              "Scores (required, each 1–10, or na when it does not apply)"),
    "callbacks.call.scores_note": ("客户接通后须为每一项打分(如全款购车的“贷款过程”填“不适用”);客户不愿评分时请勾选“客户拒绝评分”。",
                                   "A reached customer scores every factor (na where it does not apply, e.g. "
                                   "financing for a cash buyer); if they will not, tick \"Customer declined the survey\"."),
    "callbacks.call.na": ("不适用", "na"),
    "callbacks.call.survey_declined": ("客户拒绝评分", "Customer declined the survey"),
    "callbacks.call.comment": ("客户意见 / 备注", "Comments"),
    "callbacks.call.corrections": ("客户资料有误或缺失(提交修正申请)", "Customer data wrong or missing (request a correction)"),
    "callbacks.call.corrections_note": ("填写正确的值,保存后转相关部门经理24小时内修正,客关部确认。",
                                        "Enter the right value; the owning department's manager corrects it "
                                        "within 24 hours and customer relations confirms."),
    "callbacks.call.correction_reason": ("修正说明(客户原话等)", "Reason (what the customer said)"),
    "callbacks.call.do_not_call": ("客户要求不再回访(免打扰)", "Customer asks not to be called again"),
    "callbacks.call.save_next": ("保存并下一个 (Ctrl+Enter)", "Save and next (Ctrl+Enter)"),
    "callbacks.call.save": ("保存", "Save"),
    "callbacks.call.release": ("放回队列 (Esc)", "Put back (Esc)"),
    "callbacks.call.claim": ("领取此回访", "Take this call"),
    "callbacks.call.claimed_by": ("{name} 正在处理此回访", "{name} is working on this call"),
    "callbacks.call.unhappy_note": ("选择“不满意”或“非常不满意”将自动生成投诉单并转本店处理。",
                                   "\"Dissatisfied\" or \"very dissatisfied\" files a complaint at the store automatically."),
    "callbacks.call.attempt": ("第{n}/{m}次", "Attempt {n} of {m}"),
    "callbacks.call.closed": ("此回访已结束:{state}", "This callback is closed: {state}"),
    "callbacks.call.planned": ("计划于 {when} 回访,尚未到期;到期后即可在队列中领取。",
                               "Planned for {when}; not due yet. It can be taken from the queue once due."),
    "callbacks.next_planned": ("下一个回访将于 {when} 到期:{kind} · {customer}",
                               "Next call due {when}: {kind} · {customer}"),
    "callbacks.nothing_planned": ("暂无计划中的回访。", "No calls are planned."),
    "callbacks.call.complaint": ("已生成投诉单 #{id}", "Complaint #{id} filed"),
    "callbacks.call.saved": ("已保存", "Saved"),
    "callbacks.call.dnc": ("免打扰", "Do not call"),
    "callbacks.call.keys": ("快捷键:1–4 结果 · Y 满意 / U 不满意 · Ctrl+Enter 保存并下一个 · Esc 放回",
                            "Keys: 1–4 outcome · Y satisfied / U dissatisfied · Ctrl+Enter save and next · Esc put back"),
    "callbacks.field.mobile": ("手机", "Mobile"),
    "callbacks.field.phone2": ("其他电话", "Other phone"),
    "callbacks.field.address": ("地址", "Address"),
    "callbacks.field.email": ("邮箱", "E-mail"),
    "callbacks.field.plate": ("车牌", "Plate"),
    "callbacks.field.vin": ("车架号", "VIN"),
    "callbacks.stats.period": ("统计周期", "Period"),
    "callbacks.stats.week": ("周", "Week"),
    "callbacks.stats.month": ("月", "Month"),
    "callbacks.stats.show": ("查询", "Show"),
    "callbacks.stats.sales": ("新购车用户回访(附件3)", "New-car callbacks (att. 3)"),
    "callbacks.stats.service": ("维修用户回访(附件4)", "Service callbacks (att. 4)"),
    "callbacks.stats.planned": ("应回访", "Planned"),
    "callbacks.stats.called": ("已回访", "Called"),
    "callbacks.stats.callback_rate": ("回访率", "Callback rate"),
    "callbacks.stats.on_time_rate": ("及时率", "On-time rate"),
    "callbacks.stats.reach_rate": ("接通率", "Reach rate"),
    "callbacks.stats.satisfaction_rate": ("满意率", "Satisfaction rate"),
    "callbacks.stats.unreachable": ("无法联系", "Unreachable"),
    "callbacks.stats.complaints": ("转投诉", "Complaints"),
    "callbacks.stats.skipped": ("免打扰", "Do not call"),
    "callbacks.stats.factors": ("满意度分项平均分", "Average score per factor"),
    "callbacks.stats.target": ("目标:回访率 {c} · 满意率 ≥ {s}", "Targets: callback rate {c} · satisfaction ≥ {s}"),
    "callbacks.stats.sms": ("短信关怀:已发送 {sent} 条,失败 {failed} 条", "SMS care: {sent} sent, {failed} failed"),
})


@get("/callbacks", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
async def queue_page(request: Request[Scope, Any, Any], actor: Scope, store: int | None = None) -> Template:
    """The work queue; the htmx refresh (every minute) gets only the lists."""
    store_id = _store_filter(actor, store)
    queue = await service.work_queue(actor=actor, store_id=store_id)
    context = {"queue": queue, "store_id": store_id, "stores": await store_choices(actor),
               "may_work": actor.has_role(*CALLBACK_WORKERS)}
    return page_or_fragment(request, page="callbacks/queue.html", fragment="callbacks/_queue.html", context=context)


@get("/callbacks/list", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
async def list_page(actor: Scope, in_state: Annotated[str, Parameter(query="state")] = "", kind: str = "",
                    store: str = "", sort: str = "", page: str = "", page_size: str = "") -> Template:
    """Every callback of the reader's stores, filtered, sorted and paged; exported as shown."""
    filters = _list_filters(actor, in_state, kind, store)
    want = service.CALLBACK_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await service.list_callbacks(actor=actor, state=filters["state"], kind=filters["kind"],
                                         store_id=filters["store"], want=want)
    return Template("callbacks/list.html", context={
        "items": found.items, "filters": filters, "states": STATES, "kinds": KIND_LABELS,
        "stores": await store_choices(actor),
        "view": ListView("/callbacks/list", service.CALLBACK_LIST, want, found, filters,
                         export_path="/callbacks/list/export"),
    })


@get("/callbacks/list/export", guards=[requires(*CALLBACK_READERS)], include_in_schema=False)
async def list_export(
    request: Request[Scope, Any, Any], actor: Scope, in_state: Annotated[str, Parameter(query="state")] = "",
    kind: str = "", store: str = "", sort: str = "", format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx",
) -> Response:
    filters = _list_filters(actor, in_state, kind, store)
    items = await service.export_callbacks(actor=actor, state=filters["state"], kind=filters["kind"],
                                           store_id=filters["store"], want=service.CALLBACK_LIST.parse(sort=sort))
    return export_response(service.CALLBACK_EXPORT, items, format=format, name=service.CALLBACK_LIST.name,
                           zone=await timezone_of(group=actor.group_id), english=language_of(request) == "en")


def _list_filters(actor: Scope, state: str, kind: str, store: str) -> dict[str, Any]:
    """A value the list does not know keeps every row, as the filter's "any" choice would."""
    store_id = optional_int(store)
    return {"state": state if state in STATES else "", "kind": kind if kind in KIND_LABELS else "",
            "store": store_id if store_id in actor.store_ids else None}


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
async def stats_page(actor: Scope, store: int | None = None, period: str = "week", day: str = "") -> Template:
    stores = await store_choices(actor)
    store_id = _store_filter(actor, store) or (stores[0]["id"] if stores else None)
    if store_id is None:
        raise NotFound("store")
    try:
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    period = period if period in ("week", "month") else "week"
    stats = await statistics.callback_statistics(actor=actor, store_id=store_id, period=period, day=chosen)
    return Template("callbacks/stats.html", context={"stats": stats, "stores": stores, "store_id": store_id,
                                                     "period": period, "day": (chosen or stats.start).isoformat()})


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
