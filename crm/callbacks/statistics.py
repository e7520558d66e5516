"""Weekly and monthly callback statistics per store (seed 002 attachments 3 and 4).

新购车用户回访记录统计表 (sales callbacks) and 维修用户回访记录统计表 (service
callbacks) count, for the callbacks due in the period (in the store's local time):

- 应回访 `planned`: phone callbacks due, not cancelled, not skipped as do-not-call — in the current period only
  those due by now (`not_yet_due` counts the rest: a call planned for Friday is no missed call on Tuesday);
- 已回访 `called`: at least one call made — **callback rate** = called / planned (target 100 %);
- 及时 `on_time`: first call made by the deadline — **on-time rate** = on_time / planned;
- 接通 `reached`: the customer answered (reached or refused) — **reach rate** = reached / called;
- 满意 `satisfied`: answers 非常满意 or 满意 of those who answered the overall satisfaction (five levels) — **satisfaction rate**;
- per-factor averages of the SSI eight / CSI six scores (1–10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from crm import clock
from crm.callbacks.rules import DEFAULT_RULES, SALES_KINDS, SERVICE_KINDS
from crm.callbacks.surveys import SATISFIED_LEVELS, SURVEYS
from crm.callbacks.tables import Callback, CallbackScore, CallbackTarget
from crm.db import transaction
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope, timezone_of
from tenants.tables import Store

DEFAULT_TARGETS = (100, 90)  # 回访率 100 % (002 §2.1); 满意率不低于XX% — 90 % until the group sets its XX


@dataclass
class Figures:
    planned: int = 0
    called: int = 0
    on_time: int = 0
    reached: int = 0
    refused: int = 0
    no_answer_open: int = 0
    unreachable: int = 0
    wrong_number: int = 0
    answered: int = 0
    satisfied: int = 0
    complaints: int = 0
    skipped_do_not_call: int = 0
    not_yet_due: int = 0
    callback_rate: float | None = None
    on_time_rate: float | None = None
    reach_rate: float | None = None
    satisfaction_rate: float | None = None


@dataclass
class FactorAverage:
    survey: str
    factor: str
    label_zh: str
    label_en: str
    average: float | None
    answers: int


@dataclass
class Statistics:
    store_id: int
    period: str
    start: date
    end: date  # exclusive
    sales: Figures
    service: Figures
    all_calls: Figures
    sms_sent: int
    sms_failed: int
    by_kind: dict[str, Figures]
    factors: list[FactorAverage]
    callback_target: float = 1.0
    satisfaction_target: float = 0.9
    below_target: list[str] = field(default_factory=list)


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """[start, end) of the ISO week (Monday first) or the calendar month containing `day`."""
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    raise InvalidInput.one("period", "统计周期只能是周或月", "Period must be week or month")


async def callback_statistics(*, actor: Scope, store_id: int, period: str, day: date | None = None) -> Statistics:
    """The figures of attachments 3 and 4 for one store and one week or month (default: the store's today)."""
    from crm.calendar.service import calendar_for_store
    from crm.callbacks.service import CALLBACK_READERS

    actor.require_store(store_id)
    actor.require_role(*CALLBACK_READERS)
    if day is not None and not date(1900, 1, 1) <= day <= date(9998, 12, 31):  # its period must be a real one
        raise InvalidInput.one("date", "日期须在1900年至9998年之间", "The date must be between 1900 and 9998")
    tz = (await calendar_for_store(store_id)).tz
    start, end = period_bounds(period, day or clock.now().astimezone(tz).date())
    start_at = datetime.combine(start, time(0), tzinfo=tz).astimezone(timezone.utc)
    end_at = datetime.combine(end, time(0), tzinfo=tz).astimezone(timezone.utc)
    rows = await _rows(actor, [store_id], start_at, end_at)
    tally = _tally(rows, clock.now())
    stats = Statistics(
        store_id=store_id, period=period, start=start, end=end, sales=tally.sales, service=tally.service,
        all_calls=tally.all_calls, sms_sent=tally.sms_sent, sms_failed=tally.sms_failed,
        by_kind=dict(sorted(tally.by_kind.items(), key=lambda kv: list(DEFAULT_RULES).index(kv[0])
                            if kv[0] in DEFAULT_RULES else 99)),
        factors=await _factor_averages(actor, store_id, start_at, end_at),
    )
    targets = await callback_targets(group_id=actor.group_id or -1, store_id=store_id)
    stats.callback_target, stats.satisfaction_target = targets.callback_rate, targets.satisfaction_rate
    stats.below_target = _below_target(tally, targets)
    return stats


@dataclass
class StoreFigures:
    """One store's (or, as the total, every visible store's) attachment 3 and 4 figures in the period."""

    store_id: int | None  # None: the total
    store_name: str
    sales: Figures
    service: Figures
    all_calls: Figures
    sms_sent: int
    sms_failed: int
    callback_target: float
    satisfaction_target: float
    below_target: list[str]


@dataclass
class GroupStatistics:
    period: str
    start: date
    end: date  # exclusive
    stores: list[StoreFigures]
    total: StoreFigures


async def group_statistics(*, actor: Scope, period: str, day: date | None = None) -> GroupStatistics:
    """Every store the caller may see, and their total, for the week or month containing `day` (default
    today), counted in the group's days (like the dashboards), in one answer."""
    from crm.callbacks.service import CALLBACK_READERS

    actor.require_role(*CALLBACK_READERS)
    if actor.group_id is None:
        raise NotFound("group")
    if day is not None and not date(1900, 1, 1) <= day <= date(9998, 12, 31):
        raise InvalidInput.one("date", "日期须在1900年至9998年之间", "The date must be between 1900 and 9998")
    tz = await timezone_of(group=actor.group_id)
    start, end = period_bounds(period, day or clock.now().astimezone(tz).date())
    start_at = datetime.combine(start, time(0), tzinfo=tz).astimezone(timezone.utc)
    end_at = datetime.combine(end, time(0), tzinfo=tz).astimezone(timezone.utc)
    stores = await Store.select(Store.id, Store.name).where(
        Store.id.is_in(sorted(actor.store_ids) or [-1]), Store.group == actor.group_id).order_by(Store.name)
    rows = await _rows(actor, [s["id"] for s in stores], start_at, end_at)
    now = clock.now()
    by_store: dict[int, list[dict]] = {}
    for row in rows:
        by_store.setdefault(row["store"], []).append(row)
    group_targets = await callback_targets(group_id=actor.group_id, store_id=None)
    listed = []
    for store in stores:
        targets = await callback_targets(group_id=actor.group_id, store_id=store["id"])
        listed.append(_store_figures(store["id"], store["name"], _tally(by_store.get(store["id"], []), now), targets))
    total = _store_figures(None, "", _tally(rows, now), group_targets)
    return GroupStatistics(period=period, start=start, end=end, stores=listed, total=total)


@dataclass
class _Tally:
    sales: Figures
    service: Figures
    all_calls: Figures
    by_kind: dict[str, Figures]
    sms_sent: int = 0
    sms_failed: int = 0


async def _rows(actor: Scope, store_ids: list[int], start_at: datetime, end_at: datetime) -> list[dict]:
    """The callbacks of the stores due in [start_at, end_at), cancelled ones left out."""
    return await actor.filter(
        Callback.select(
            Callback.store, Callback.kind, Callback.channel, Callback.state, Callback.outcome, Callback.attempts,
            Callback.due_at, Callback.first_attempt_at, Callback.deadline_at, Callback.satisfaction,
            Callback.complaint_id,
        ),
        Callback,
    ).where(Callback.store.is_in(store_ids or [-1]), Callback.due_at >= start_at, Callback.due_at < end_at,
            Callback.state != "cancelled")


def _tally(rows: list[dict], now: datetime) -> _Tally:
    tally = _Tally(Figures(), Figures(), Figures(), {})
    for row in rows:
        if row["channel"] == "sms":
            tally.sms_sent += row["outcome"] == "sent"
            tally.sms_failed += row["outcome"] == "failed"
            continue
        targets = [tally.all_calls, tally.by_kind.setdefault(row["kind"], Figures())]
        if row["kind"] in SALES_KINDS:
            targets.append(tally.sales)
        elif row["kind"] in SERVICE_KINDS:
            targets.append(tally.service)
        for figures in targets:
            _count(figures, row, now)
    for figures in (tally.sales, tally.service, tally.all_calls, *tally.by_kind.values()):
        _rates(figures)
    return tally


def _below_target(tally: _Tally, targets: Targets) -> list[str]:
    below = []
    for name, figures in (("sales", tally.sales), ("service", tally.service)):
        if figures.callback_rate is not None and figures.callback_rate < targets.callback_rate:
            below.append(f"{name}.callback_rate")
        if figures.satisfaction_rate is not None and figures.satisfaction_rate < targets.satisfaction_rate:
            below.append(f"{name}.satisfaction_rate")
    return below


def _store_figures(store_id: int | None, name: str, tally: _Tally, targets: Targets) -> StoreFigures:
    return StoreFigures(
        store_id=store_id, store_name=name, sales=tally.sales, service=tally.service, all_calls=tally.all_calls,
        sms_sent=tally.sms_sent, sms_failed=tally.sms_failed, callback_target=targets.callback_rate,
        satisfaction_target=targets.satisfaction_rate, below_target=_below_target(tally, targets),
    )


@dataclass
class Targets:
    callback_rate: float
    satisfaction_rate: float
    level: str  # default | group | store


async def callback_targets(*, group_id: int, store_id: int | None) -> Targets:
    """The store's targets, else the group's, else the defaults."""
    keys = [_target_key(group_id, None)] + ([_target_key(group_id, store_id)] if store_id is not None else [])
    level = Scope.system(group_id, store_id)  # passed in by callers that checked them
    rows = {
        r["target_key"]: r
        for r in await level.select(CallbackTarget, group_rows=True).where(CallbackTarget.target_key.is_in(keys))
    }
    for key, level in reversed(list(zip(keys, ("group", "store")))):
        if key in rows:
            row = rows[key]
            return Targets(row["callback_rate_pct"] / 100, row["satisfaction_rate_pct"] / 100, level)
    return Targets(DEFAULT_TARGETS[0] / 100, DEFAULT_TARGETS[1] / 100, "default")


async def set_callback_targets(
    *, actor: Scope, store_id: int | None, callback_rate_pct: int, satisfaction_rate_pct: int
) -> Targets:
    """Set the group's targets (group admins) or one store's (its GM or customer-relations manager)."""
    from crm.callbacks.rules import RULE_EDITORS

    if actor.group_id is None:
        raise NotFound("group")
    if store_id is None:
        actor.require_role(Role.GROUP_ADMIN)
    else:
        actor.require_store(store_id)
        actor.require_role(*RULE_EDITORS)
    problems = [FieldProblem(name, "必须在 0 到 100 之间", "Must be between 0 and 100")
                for name, pct in (("callback_rate_pct", callback_rate_pct), ("satisfaction_rate_pct", satisfaction_rate_pct))
                if not 0 <= pct <= 100]
    if problems:
        raise InvalidInput(problems)
    key = _target_key(actor.group_id, store_id)
    values = {CallbackTarget.callback_rate_pct: callback_rate_pct,
              CallbackTarget.satisfaction_rate_pct: satisfaction_rate_pct, CallbackTarget.updated_at: clock.now()}
    async with transaction():
        before = await callback_targets(group_id=actor.group_id, store_id=store_id)
        level = Scope.system(actor.group_id, store_id)  # the caller's group and a store checked with require_store
        updated = await level.update(CallbackTarget, values, group_rows=True).where(CallbackTarget.target_key == key).returning(
            CallbackTarget.id)
        if not updated:
            await CallbackTarget.insert(CallbackTarget(
                group=actor.group_id, store=store_id, target_key=key, callback_rate_pct=callback_rate_pct,
                satisfaction_rate_pct=satisfaction_rate_pct, updated_at=clock.now()))
        await audit.record(actor, "callbacks.targets", "store" if store_id else "group", store_id or actor.group_id,
                           before={"callback_rate_pct": round(before.callback_rate * 100),
                                   "satisfaction_rate_pct": round(before.satisfaction_rate * 100)},
                           after={"callback_rate_pct": callback_rate_pct, "satisfaction_rate_pct": satisfaction_rate_pct})
    return await callback_targets(group_id=actor.group_id, store_id=store_id)


async def change_callback_targets(
    *, actor: Scope, store_id: int | None, callback_rate_pct: int | None, satisfaction_rate_pct: int | None
) -> Targets:
    """Change one or both targets at a level (PATCH); a target not given keeps the value in effect there."""
    if store_id is not None:
        actor.require_store(store_id)
    async with transaction():
        current = await callback_targets(group_id=actor.group_id or -1, store_id=store_id)
        return await set_callback_targets(
            actor=actor, store_id=store_id,
            callback_rate_pct=round(current.callback_rate * 100) if callback_rate_pct is None else callback_rate_pct,
            satisfaction_rate_pct=(round(current.satisfaction_rate * 100) if satisfaction_rate_pct is None
                                   else satisfaction_rate_pct),
        )


def _target_key(group_id: int, store_id: int | None) -> str:
    return f"{group_id}:{store_id if store_id is not None else '*'}"


def _count(figures: Figures, row: dict, now: datetime) -> None:
    if row["state"] == "skipped":
        figures.skipped_do_not_call += 1
        return
    if row["state"] == "scheduled" and row["attempts"] == 0 and row["due_at"] > now:
        figures.not_yet_due += 1
        return
    figures.planned += 1
    if row["attempts"] > 0:
        figures.called += 1
        if row["first_attempt_at"] is not None and row["first_attempt_at"] <= row["deadline_at"]:
            figures.on_time += 1
    if row["outcome"] in ("reached", "refused"):
        figures.reached += 1
    figures.refused += row["outcome"] == "refused"
    figures.wrong_number += row["outcome"] == "wrong_number"
    figures.unreachable += row["state"] == "unreachable"
    figures.no_answer_open += row["outcome"] == "no_answer" and row["state"] in ("scheduled", "due")
    if row["satisfaction"] is not None:
        figures.answered += 1
        figures.satisfied += row["satisfaction"] in SATISFIED_LEVELS
    figures.complaints += row["complaint_id"] is not None


def _rates(figures: Figures) -> None:
    figures.callback_rate = _ratio(figures.called, figures.planned)
    figures.on_time_rate = _ratio(figures.on_time, figures.planned)
    figures.reach_rate = _ratio(figures.reached, figures.called)
    figures.satisfaction_rate = _ratio(figures.satisfied, figures.answered)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def _factor_averages(actor: Scope, store_id: int, start_at: datetime, end_at: datetime) -> list[FactorAverage]:
    """Average score per SSI/CSI factor of the callbacks due in the period; "not applicable" answers (no score)
    count neither in the average nor in the answers."""
    from piccolo.query.functions.aggregate import Avg, Count

    rows = await actor.filter(
        CallbackScore.select(CallbackScore.survey, CallbackScore.factor, Avg(CallbackScore.score, alias="average"),
                             Count(CallbackScore.score, alias="answers")),
        CallbackScore,
    ).where(
        CallbackScore.store == store_id, CallbackScore.callback.due_at >= start_at,
        CallbackScore.callback.due_at < end_at,
    ).group_by(CallbackScore.survey, CallbackScore.factor)
    found = {(r["survey"], r["factor"]): r for r in rows}
    averages = []
    for survey, factors in SURVEYS.items():
        for factor in factors:
            row = found.get((survey, factor.code))
            averages.append(FactorAverage(
                survey=survey, factor=factor.code, label_zh=factor.label_zh, label_en=factor.label_en,
                average=round(float(row["average"]), 2) if row and row["average"] is not None else None, answers=row["answers"] if row else 0))
    return averages
