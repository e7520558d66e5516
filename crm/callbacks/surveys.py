"""Satisfaction surveys asked during callbacks: SSI (sales, eight factors) and CSI (after-sales, six factors).

CS = SSI + CSI (seed 001 §2); the factors are those of seed 001 §11, each scored 1–10 (seed 002 §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SCORE, MAX_SCORE = 1, 10


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

SURVEY_TITLES = {"ssi": ("销售满意度(SSI)", "Sales satisfaction (SSI)"),
                 "csi": ("售后满意度(CSI)", "After-sales satisfaction (CSI)")}


def factor_codes(survey: str) -> list[str]:
    return [f.code for f in SURVEYS.get(survey, ())]
