"""Strength and weakness items (优势项目 / 劣势项目, seed 002 §1.4) of a store's internal survey in a month.

Each SSI/CSI factor's answers of the month are read on the five-level scale, 1 being 非常不满意 and 10
非常满意 (seed 002 §1.3): 9–10 非常满意, 7–8 满意, 5–6 一般, 3–4 不满意, 1–2 非常不满意 (`SCORE_LEVELS`).
"Not applicable" answers are not answers. With the group's thresholds (percent; defaults below):

- strength: no 不满意 / 非常不满意 answer and a 非常满意 share ≥ `strength_very_satisfied_min`;
- weakness: a 非常满意 share < `weakness_very_satisfied_max` with a 不满意 + 非常不满意 share
  > `weakness_unhappy_min`, or a 非常满意 share that dropped against the previous month by more than
  `weakness_drop_min` percentage points.

Shares are exact fractions compared exactly, as the pay bands are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from crm import clock
from crm.calendar.service import calendar_for_store
from crm.callbacks.surveys import SURVEYS
from crm.callbacks.tables import CallbackScore
from crm.db import transaction
from crm.satisfaction.manufacturer import SCORE_READERS
from crm.satisfaction.tables import SatisfactionThresholds
from tenants.errors import FieldProblem, Forbidden, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

# (lowest score, level) from the top: 9–10 非常满意 … 1–2 非常不满意
SCORE_LEVELS = ((9, "very_satisfied"), (7, "satisfied"), (5, "neutral"), (3, "dissatisfied"), (1, "very_dissatisfied"))
UNHAPPY = ("dissatisfied", "very_dissatisfied")
THRESHOLD_EDITORS = frozenset({Role.GROUP_ADMIN})


@dataclass(frozen=True)
class Thresholds:
    strength_very_satisfied_min: int = 60
    weakness_very_satisfied_max: int = 40
    weakness_unhappy_min: int = 10
    weakness_drop_min: int = 10


DEFAULT_THRESHOLDS = asdict(Thresholds())
# What each threshold means, for the form that edits them (percent, or percentage points for the drop).
THRESHOLD_LABELS = {
    "strength_very_satisfied_min": ("优势：无不满意且非常满意占比不低于（%）",
                                    "Strength: no dissatisfied answer and a very satisfied share of at least (%)"),
    "weakness_very_satisfied_max": ("劣势：非常满意占比低于（%）", "Weakness: a very satisfied share below (%)"),
    "weakness_unhappy_min": ("且不满意+非常不满意占比高于（%）", "with a dissatisfied share above (%)"),
    "weakness_drop_min": ("或非常满意占比比上月下降超过（百分点）",
                          "or a very satisfied share that dropped by more than (points) against last month"),
}


def level_of_score(score: int) -> str:
    return next(level for lowest, level in SCORE_LEVELS if score >= lowest)


def classify(levels: Counter, previous: Counter | None, limits: Thresholds) -> str | None:
    """"strength", "weakness" or None for one factor's answers (level → count) of a period."""
    answers = sum(levels.values())
    if not answers:
        return None
    very = Fraction(levels["very_satisfied"] * 100, answers)
    unhappy = Fraction(sum(levels[u] for u in UNHAPPY) * 100, answers)
    dropped = False
    if previous and sum(previous.values()):
        before = Fraction(previous["very_satisfied"] * 100, sum(previous.values()))
        dropped = before - very > limits.weakness_drop_min
    if (very < limits.weakness_very_satisfied_max and unhappy > limits.weakness_unhappy_min) or dropped:
        return "weakness"
    if unhappy == 0 and very >= limits.strength_very_satisfied_min:
        return "strength"
    return None


async def strengths_and_weaknesses(*, actor: Scope, store_id: int, month: date) -> dict[str, Any]:
    """Every SSI/CSI factor of the store's callbacks due in `month`: its mean score (内部SSI/CSI by factor),
    its distribution on the five levels and its verdict."""
    if not actor.has_role(*SCORE_READERS):
        raise Forbidden()
    actor.require_store(store_id)
    if not 2000 <= month.year <= 2099:
        raise InvalidInput.one("month", "月份须在2000年至2099年之间", "The month must be between 2000 and 2099")
    limits = await thresholds(actor=actor)
    start = month.replace(day=1)
    previous_start = (start - timedelta(days=1)).replace(day=1)
    current = await _scores(actor, store_id, start, (start + timedelta(days=32)).replace(day=1))
    before = await _scores(actor, store_id, previous_start, start)
    items = []
    for survey, factors in SURVEYS.items():
        for factor in factors:
            scores = current.get((survey, factor.code), [])
            levels = _levels(scores)
            items.append({
                "survey": survey, "factor": factor.code, "label_zh": factor.label_zh, "label_en": factor.label_en,
                "answers": len(scores), "average": round(sum(scores) / len(scores), 2) if scores else None,
                "levels": {level: levels[level] for _, level in SCORE_LEVELS},
                "verdict": classify(levels, _levels(before.get((survey, factor.code), [])), limits),
            })
    return {"store_id": store_id, "month": start.strftime("%Y-%m"), "thresholds": asdict(limits), "items": items}


async def thresholds(*, actor: Scope) -> Thresholds:
    row = await actor.filter_group(SatisfactionThresholds.select(), SatisfactionThresholds).first()
    return Thresholds(**{k: row[k] for k in DEFAULT_THRESHOLDS}) if row else Thresholds()


async def set_thresholds(*, actor: Scope, changes: dict[str, int]) -> Thresholds:
    """The group admin's thresholds (percent, 0–100); unnamed ones keep their value."""
    if not actor.has_role(*THRESHOLD_EDITORS):
        raise Forbidden("只有集团管理员可以修改优劣势阈值", "Only a group admin may change the thresholds")
    problems = [FieldProblem(k, "阈值应为0–100之间的整数", "A threshold is a whole percentage 0–100")
                for k, v in changes.items() if k not in DEFAULT_THRESHOLDS or not 0 <= v <= 100]
    if problems:
        raise InvalidInput(problems)
    merged = asdict(await thresholds(actor=actor)) | changes
    async with transaction():
        exists = await actor.filter_group(SatisfactionThresholds.select(SatisfactionThresholds.id),
                                          SatisfactionThresholds).first()
        values = {getattr(SatisfactionThresholds, k): v for k, v in merged.items()}
        if exists:
            await actor.filter_group(
                SatisfactionThresholds.update({**values, SatisfactionThresholds.updated_at: clock.now()}),
                SatisfactionThresholds,
            )
        else:
            await SatisfactionThresholds.insert(
                SatisfactionThresholds(group=actor.group_id, updated_at=clock.now(), **merged))
    return Thresholds(**merged)


def _levels(scores: list[int]) -> Counter:
    return Counter(level_of_score(score) for score in scores)


async def _scores(actor: Scope, store_id: int, start: date, end: date) -> dict[tuple[str, str], list[int]]:
    """Each factor's scores (1–10) of the store's callbacks due in [start, end); "not applicable" is no score."""
    tz = (await calendar_for_store(store_id)).tz
    start_at = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    end_at = datetime.combine(end, time(0), tzinfo=tz).astimezone(UTC)
    rows = await actor.filter(
        CallbackScore.select(CallbackScore.survey, CallbackScore.factor, CallbackScore.score), CallbackScore
    ).where(
        CallbackScore.store == store_id, CallbackScore.callback.due_at >= start_at,
        CallbackScore.callback.due_at < end_at, CallbackScore.score.is_not_null(),
    )
    found: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        found.setdefault((row["survey"], row["factor"]), []).append(row["score"])
    return found
