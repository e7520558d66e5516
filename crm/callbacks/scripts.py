"""Call scripts (话术): a rule's template filled with the customer's name, car and visit."""

from __future__ import annotations

import string
from collections.abc import Mapping

# Every placeholder a rule's script may use; a missing value shows as a blank to fill in on the call.
PLACEHOLDERS = frozenset({
    "customer", "customer_name", "store", "agent", "car", "plate", "vin_tail", "days_ago", "when", "delivered_on",
    "visit_on", "advisor", "salesperson", "repair_type", "mileage", "next_visit_on", "insurance_expires_on",
    "inspection_due_on", "holiday",
})
BLANK = "____"

REPAIR_TYPES_ZH = {"maintenance": "保养", "repair": "维修", "warranty": "保修维修", "accident": "事故维修",
                   "other": "服务"}

# Two-character surnames common enough to get right in a greeting (欧阳先生, not 欧先生).
_COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
                                "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "万俟", "闻人"})


def days_ago_zh(days: int) -> str:
    """今天 / 昨天 / 前天 / N天前 — how an agent says when the delivery or visit was."""
    return {0: "今天", 1: "昨天", 2: "前天"}.get(days, f"{days}天前")


def script_placeholders(script: str) -> set[str]:
    """The placeholder names a template uses ("{car}" → "car"); a malformed template yields "{".

    Brace pairs that are not placeholders (e.g. a stray "{") make the template unusable, so they are reported.
    """
    try:
        return {name for _, name, _, _ in string.Formatter().parse(script) if name is not None}
    except ValueError:
        return {"{"}


def render_script(script: str, values: Mapping[str, object]) -> str:
    filled = {name: (str(values[name]) if values.get(name) not in (None, "") else BLANK) for name in PLACEHOLDERS}
    try:
        return script.format_map(filled)
    except (KeyError, ValueError, IndexError):
        return script


def salutation(*, name: str, gender: str = "", kind: str = "private", contact_person: str = "") -> str:
    """How the agent addresses the customer: 张先生 / 李女士 / 王先生/女士; a company by its contact person."""
    if kind == "company":
        return f"{contact_person}({name})" if contact_person else name
    name = name.strip()
    if not name:
        return "先生/女士"
    surname = name[:2] if name[:2] in _COMPOUND_SURNAMES else name[0]
    if not _is_cjk(surname[0]):
        return name
    title = {"male": "先生", "female": "女士"}.get(gender, "先生/女士")
    return f"{surname}{title}"


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"
