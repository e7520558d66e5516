"""The vocabulary of major complaints (重大投诉): reasons, ladder conditions, report statuses, risk levels.

Seed 004 #10 §2.5–2.7: a complaint is major when it is a repeat complaint, a complaint
to the manufacturer, the customer blocks the gate, makes trouble on site, demands to
return or exchange the vehicle, there is a negative media report, or the store judges
it wide-impact or serious for another reason (which then needs a note).
"""

from __future__ import annotations

from enum import StrEnum


class MajorReason(StrEnum):
    REPEAT = "repeat"
    MANUFACTURER = "manufacturer"
    BLOCKING_GATE = "blocking_gate"
    TROUBLE_ON_SITE = "trouble_on_site"
    RETURN_EXCHANGE = "return_exchange"
    NEGATIVE_MEDIA = "negative_media"
    OTHER = "other"

    @property
    def title_zh(self) -> str:
        return REASON_TITLES[self][0]

    @property
    def title_en(self) -> str:
        return REASON_TITLES[self][1]


REASON_TITLES: dict[MajorReason, tuple[str, str]] = {
    MajorReason.REPEAT: ("重复投诉", "Repeat complaint"),
    MajorReason.MANUFACTURER: ("向厂方投诉", "Complaint to the manufacturer"),
    MajorReason.BLOCKING_GATE: ("堵门", "Customer blocking the gate"),
    MajorReason.TROUBLE_ON_SITE: ("闹事", "Making trouble on site"),
    MajorReason.RETURN_EXCHANGE: ("退换车", "Demand to return or exchange the vehicle"),
    MajorReason.NEGATIVE_MEDIA: ("媒体负面报道", "Negative media report"),
    MajorReason.OTHER: ("其他（影响面广或性质严重）", "Other (wide impact or serious)"),
}


class Condition(StrEnum):
    """What must still be true when a ladder level's timer fires for the level to alert."""

    REPORT_MISSING = "report_missing"  # 《重大投诉事件处理报告》 not filed yet
    UNRESOLVED = "unresolved"  # the complaint is not resolved yet

    @property
    def title_zh(self) -> str:
        return {"report_missing": "未提交处理报告", "unresolved": "投诉仍未解决"}[self.value]

    @property
    def title_en(self) -> str:
        return {"report_missing": "report not filed", "unresolved": "complaint unresolved"}[self.value]


class ReportStatus(StrEnum):
    MISSING = "missing"  # nothing filed (a draft may exist)
    FILED = "filed"  # filed by the store: the 24-hour rule is satisfied if on time
    FORWARDED = "forwarded"  # the brand division forwarded it to the VP operations and the CEO

    @property
    def title_zh(self) -> str:
        return {"missing": "未提交", "filed": "已提交", "forwarded": "已转呈"}[self.value]

    @property
    def title_en(self) -> str:
        return {"missing": "not filed", "filed": "filed", "forwarded": "forwarded"}[self.value]


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def title_zh(self) -> str:
        return {"none": "无", "low": "低", "medium": "中", "high": "高"}[self.value]

    @property
    def title_en(self) -> str:
        return self.value

