"""Callbacks API (回访): rules, the agents' work queue, claiming, outcomes, statistics and targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import Parameter

from api.i18n import language_of
from api.lists import FormatParam, PageParam, PageSizeParam, SortParam, export_response, filtered_by
from api.params import NO_NUL, IdParam, OptionalStoreIdQuery, StoreIdQuery, text, text_param
from crm.callbacks import rules, service, statistics
from crm.callbacks.rules import Rule
from crm.callbacks.service import CallbackDetail, OutcomeResult, PlannedCallback, QueueItem, WorkQueue
from crm.callbacks.statistics import GroupStatistics, Statistics, Targets
from crm.callbacks.surveys import LEVEL_CODES
from crm import lists
from crm.lists import Page
from tenants.scope import Scope, timezone_of

StoreId = OptionalStoreIdQuery
StateParam = Annotated[str, Parameter(query="state", max_length=20, pattern=NO_NUL)]
Minutes = Annotated[int, msgspec.Meta(ge=-527040, le=527040)]


class RuleChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Fields to override; omitted fields keep the inherited value."""

    enabled: bool | None = None
    channel: Literal["phone", "sms"] | None = None
    survey: Literal["", "ssi", "csi"] | None = None
    offset_minutes: Minutes | None = None
    window_minutes: Annotated[int, msgspec.Meta(ge=1, le=527040)] | None = None
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] | None = None
    retry_minutes: Annotated[int, msgspec.Meta(ge=10, le=10080)] | None = None
    script: text(2000) | None = None


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Literal["reached", "no_answer", "refused", "wrong_number"]
    # 非常满意 / 满意 / 一般 / 不满意 / 非常不满意; `satisfied` (yes/no) is still read, as 满意 / 不满意.
    satisfaction: Literal[LEVEL_CODES] | None = None  # type: ignore[valid-type]
    satisfied: bool | None = None
    # Each factor of the survey: a score 1–10, or "na" when it does not apply (e.g. financing for a cash buyer).
    scores: dict[text(40), Annotated[int, msgspec.Meta(ge=1, le=10)] | Literal["na"]] = {}
    comment: text(2000) = ""
    # Wrong or missing customer data found on the call: {field: proposed value}. Each becomes a correction
    # request to the owning department's manager (the record is not changed here).
    corrections: dict[text(40), text(255)] = {}
    correction_reason: text(2000) = ""
    do_not_call: bool = False
    # Reached, but the customer would not score the survey: required instead of the scores (SSI/CSI callbacks).
    survey_declined: bool = False


class TargetsIn(msgspec.Struct, forbid_unknown_fields=True):
    callback_rate_pct: Annotated[int, msgspec.Meta(ge=0, le=100)]
    satisfaction_rate_pct: Annotated[int, msgspec.Meta(ge=0, le=100)]


class TargetsChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The targets to change; an omitted one keeps its current value at that level."""

    callback_rate_pct: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    satisfaction_rate_pct: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None


@dataclass
class NextCall:
    callback: CallbackDetail | None


@get("/api/v1/callbacks/rules", tags=["callbacks"])
async def list_rules(actor: Scope, store_id: StoreId = None) -> Page[Rule]:
    """Every callback/care rule as it applies to a store (or the group's own, without `store_id`); the fixed set
    of rules on one page, in the product's order (`sort` is `kind`)."""
    return lists.whole(await rules.list_rules(actor=actor, store_id=store_id), sort="kind")


@put("/api/v1/callbacks/rules/{kind:str}", tags=["callbacks"])
async def set_rule(actor: Scope, kind: str, data: RuleChange, store_id: StoreId = None) -> Rule:
    """Override a rule for the group (group admin) or one store (its GM / customer-relations manager)."""
    changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not None}
    return await rules.set_rule(actor=actor, kind=kind, store_id=store_id, changes=changes)


@delete("/api/v1/callbacks/rules/{kind:str}", tags=["callbacks"], status_code=200)
async def reset_rule(actor: Scope, kind: str, store_id: StoreId = None) -> Rule:
    """Drop the override at that level; returns the rule now in effect."""
    return await rules.reset_rule(actor=actor, kind=kind, store_id=store_id)


@get("/api/v1/callbacks/queue", tags=["callbacks"])
async def work_queue(
    actor: Scope, store_id: StoreId = None, limit: Annotated[int, Parameter(ge=1, le=200)] = 50
) -> WorkQueue:
    """The agent's queue: my current call, overdue, due now, upcoming."""
    return await service.work_queue(actor=actor, store_id=store_id, limit=limit)


def callback_filter(in_state: StateParam = "", kind: text_param(40) = "", store_id: StoreId = None
                    ) -> service.CallbackFilter:
    """The callback list's filters, for the list and its export alike."""
    return service.CallbackFilter(state=in_state, kind=kind, store_id=store_id)


@get("/api/v1/callbacks", tags=["callbacks"])
@filtered_by(callback_filter)
async def list_callbacks(
    actor: Scope, filters: service.CallbackFilter, sort: SortParam = "", page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[QueueItem]:
    """Every callback of the caller's stores (planned, due, done, unreachable, …), one page with the total.
    `sort`: `due` (default), `deadline`, `kind`, `customer`, `car`, `plate`, `state`, `attempts`, `claimed`;
    `-key` for descending."""
    want = service.CALLBACK_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await service.list_callbacks(actor=actor, filters=filters, want=want)


@get("/api/v1/callbacks/export", tags=["callbacks"])
@filtered_by(callback_filter)
async def export_callbacks(
    request: Request, actor: Scope, filters: service.CallbackFilter, sort: SortParam = "", format: FormatParam = "xlsx",
) -> Response:
    """The list with the same filters and order, every page, as XLSX or CSV; mobiles masked as the caller sees
    them, counted and logged like any bulk read."""
    items = await service.export_callbacks(actor=actor, filters=filters, want=service.CALLBACK_LIST.parse(sort=sort))
    return export_response(service.CALLBACK_EXPORT, items, format=format, name=service.CALLBACK_LIST.name,
                           zone=await timezone_of(group=actor.group_id), english=language_of(request) == "en")


@post("/api/v1/callbacks/next", tags=["callbacks"], status_code=200)
async def next_call(actor: Scope, store_id: StoreId = None) -> NextCall:
    """Claim the next call (my current one first); `callback` is null when nothing is due."""
    return NextCall(callback=await service.claim_next(actor=actor, store_id=store_id))


@get("/api/v1/callbacks/statistics", tags=["callbacks"])
async def callback_statistics(
    actor: Scope,
    store_id: StoreIdQuery,
    period: Literal["week", "month"] = "week",
    day: Annotated[date | None, Parameter(query="date", required=False)] = None,
) -> Statistics:
    """Attachment 3 and 4 figures for the week or month containing `date` (default today)."""
    return await statistics.callback_statistics(actor=actor, store_id=store_id, period=period, day=day)


@get("/api/v1/callbacks/statistics/stores", tags=["callbacks"])
async def group_callback_statistics(
    actor: Scope,
    period: Literal["week", "month"] = "month",
    day: Annotated[date | None, Parameter(query="date", required=False)] = None,
) -> GroupStatistics:
    """Every store the caller may see and their total, in one answer: planned, called, on time, reached,
    satisfied and the rates of new-car (attachment 3) and service (attachment 4) callbacks for the week or
    month containing `date` (default: this month, in the group's days). Callbacks not yet due are counted
    apart (`not_yet_due`); a rate is null when there is nothing to count."""
    return await statistics.group_statistics(actor=actor, period=period, day=day)


@get("/api/v1/callbacks/targets", tags=["callbacks"])
async def get_targets(actor: Scope, store_id: StoreId = None) -> Targets:
    """The callback-rate and satisfaction-rate targets in effect for a store (or the group), and the level they come
    from."""
    if store_id is not None:
        actor.require_store(store_id)
    return await statistics.callback_targets(group_id=actor.group_id or -1, store_id=store_id)


@put("/api/v1/callbacks/targets", tags=["callbacks"])
async def set_targets(actor: Scope, data: TargetsIn, store_id: StoreId = None) -> Targets:
    """Set both targets for the group (group admin) or a store (its GM / customer-relations manager); `PATCH`
    changes one."""
    return await statistics.set_callback_targets(actor=actor, store_id=store_id,
                                                 callback_rate_pct=data.callback_rate_pct,
                                                 satisfaction_rate_pct=data.satisfaction_rate_pct)


@patch("/api/v1/callbacks/targets", tags=["callbacks"])
async def change_targets(actor: Scope, data: TargetsChange, store_id: StoreId = None) -> Targets:
    """Change one target of the group (group admin) or a store (its GM / customer-relations manager); the
    other keeps the value now in effect there."""
    return await statistics.change_callback_targets(actor=actor, store_id=store_id,
                                                    callback_rate_pct=data.callback_rate_pct,
                                                    satisfaction_rate_pct=data.satisfaction_rate_pct)


@patch("/api/v1/callbacks/rules/{kind:str}", tags=["callbacks"])
async def change_rule(actor: Scope, kind: str, data: RuleChange, store_id: StoreId = None) -> Rule:
    """The same as `PUT`: only the fields given are overridden at that level, the others keep the inherited value."""
    return await set_rule.fn(actor=actor, kind=kind, data=data, store_id=store_id)


@get("/api/v1/sales/{sale_id:int}/callbacks", tags=["callbacks"])
async def sale_callbacks(actor: Scope, sale_id: IdParam) -> Page[PlannedCallback]:
    """The callbacks a delivery (交车) set off, soonest due first: phase (planned / due / in progress / finished),
    due time, deadline and outcome. Cancelled callbacks are left out. The few a delivery plans, on one page (`sort`
    is `due`)."""
    return lists.whole(await service.planned_callbacks(actor=actor, source="sale", source_id=sale_id), sort="due")


@get("/api/v1/visits/{visit_id:int}/callbacks", tags=["callbacks"])
async def visit_callbacks(actor: Scope, visit_id: IdParam) -> Page[PlannedCallback]:
    """The callbacks a service visit (维修保养) set off, soonest due first, with phase, due time and outcome; on one
    page (`sort` is `due`)."""
    return lists.whole(await service.planned_callbacks(actor=actor, source="visit", source_id=visit_id), sort="due")


@get("/api/v1/callbacks/{callback_id:int}", tags=["callbacks"])
async def callback_detail(actor: Scope, callback_id: IdParam) -> CallbackDetail:
    """A callback with its filled-in script (话术), the customer, the car and its history."""
    return await service.callback_detail(actor=actor, callback_id=callback_id)


@post("/api/v1/callbacks/{callback_id:int}/claim", tags=["callbacks"], status_code=200)
async def claim(actor: Scope, callback_id: IdParam) -> CallbackDetail:
    """Take the call; 409 when another agent has it."""
    return await service.claim_callback(actor=actor, callback_id=callback_id)


@post("/api/v1/callbacks/{callback_id:int}/release", tags=["callbacks"], status_code=204)
async def release(actor: Scope, callback_id: IdParam) -> None:
    """Give the claimed call back to the queue without recording an outcome."""
    await service.release_callback(actor=actor, callback_id=callback_id)


@post("/api/v1/callbacks/{callback_id:int}/outcome", tags=["callbacks"], status_code=200)
async def record_outcome(actor: Scope, callback_id: IdParam, data: OutcomeIn) -> OutcomeResult:
    """Record the call: reached (with satisfaction, scores, comments, correction requests) / no answer / refused / wrong number.

    Reached: the overall satisfaction on five levels; 不满意 or 非常不满意 files a complaint. On a callback with a
    survey: every factor scored 1–10 or "na", or `survey_declined: true` and no scores."""
    return await service.record_outcome(
        actor=actor, callback_id=callback_id, outcome=data.outcome, satisfaction=data.satisfaction,
        satisfied=data.satisfied, scores=data.scores,
        comment=data.comment, corrections=data.corrections, do_not_call=data.do_not_call,
        survey_declined=data.survey_declined, correction_reason=data.correction_reason,
    )


ROUTES = [list_rules, set_rule, reset_rule, work_queue, list_callbacks, export_callbacks, next_call, callback_statistics, get_targets, set_targets,
          sale_callbacks, visit_callbacks, group_callback_statistics, change_targets, change_rule,
          callback_detail, claim, release, record_outcome]
