"""Satisfaction surveys asked during callbacks: SSI (sales, eight factors) and CSI (after-sales, six factors).

CS = SSI + CSI (seed 001 §2); the factors are those of seed 001 §11, each scored 1–10 (seed 002 §1.3)
or answered "not applicable" (`NOT_APPLICABLE`, e.g. 贷款过程 for a cash buyer), which is no score
and counts in no average. The overall satisfaction is one of five `LEVELS`; the satisfaction rate
counts `SATISFIED_LEVELS` (非常满意 + 满意) over every answer, and an `UNHAPPY_LEVELS` answer files
a complaint.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SCORE, MAX_SCORE = 1, 10
NOT_APPLICABLE = "na"


@dataclass(frozen=True)
class Level:
    code: str
    label_zh: str
    label_en: str


LEVELS: tuple[Level, ...] = (
    Level("very_satisfied", "非常满意", "Very satisfied"),
    Level("satisfied", "满意", "Satisfied"),
    Level("neutral", "一般", "Neutral"),
    Level("dissatisfied", "不满意", "Dissatisfied"),
    Level("very_dissatisfied", "非常不满意", "Very dissatisfied"),
)
LEVEL_CODES = tuple(level.code for level in LEVELS)
SATISFIED_LEVELS = frozenset({"very_satisfied", "satisfied"})
UNHAPPY_LEVELS = frozenset({"dissatisfied", "very_dissatisfied"})


def level_of_yes_no(satisfied: bool | None) -> str | None:
    """The level of an answer given as yes/no (API clients of before the five levels): 满意 or 不满意."""
    if satisfied is None:
        return None
    return "satisfied" if satisfied else "dissatisfied"


def level_label(code: str | None) -> tuple[str, str] | None:
    return next(((level.label_zh, level.label_en) for level in LEVELS if level.code == code), None)


@dataclass(frozen=True)
class Factor:
    code: str
    label_zh: str
    label_en: str


SURVEYS: dict[str, tuple[Factor, ...]] = {
    "ssi": (
        Factor("purchase_experience", "开始购车的经历", "Start of the purchase experience"),
        Factor("dealer_facility", "经销商的设施", "Dealer facilities"),
        Factor("deal_terms", "交易条件", "Deal terms"),
        Factor("paperwork", "购车文件书面处理过程", "Purchase paperwork"),
        Factor("financing", "贷款过程", "Financing process"),
        Factor("salesperson", "销售人员", "Salesperson"),
        Factor("delivery_timing", "交车时间", "Delivery timing"),
        Factor("delivery_process", "交车过程", "Delivery process"),
    ),
    "csi": (
        Factor("service_initiation", "服务启动", "Service initiation"),
        Factor("dealer_facility", "经销店设施", "Dealer facilities"),
        Factor("service_advisor", "服务顾问", "Service advisor"),
        Factor("service_quality", "服务质量", "Service quality"),
        Factor("vehicle_pickup", "取车", "Vehicle pick-up"),
        Factor("follow_up", "回访", "Follow-up"),
    ),
}

SURVEY_TITLES = {"ssi": ("销售满意度（SSI）", "Sales satisfaction (SSI)"),
                 "csi": ("售后满意度（CSI）", "After-sales satisfaction (CSI)")}


def factor_label(survey: str, code: str) -> tuple[str, str]:
    """A factor's (中文, English) label; a code no longer in the catalogue is shown as it was stored."""
    return next(((f.label_zh, f.label_en) for f in SURVEYS.get(survey, ()) if f.code == code), (code, code))


def factor_codes(survey: str) -> list[str]:
    return [f.code for f in SURVEYS.get(survey, ())]
