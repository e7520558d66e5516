"""《重大投诉事件处理报告》 (seed 002 attachment 8): the one definition of the report form.

The service's `ReportForm` and its checks, the API's request and answer structs and
the web form are derived from `FIELDS` and `PERSON_FIELDS`; a test checks the
`major_report` table's columns against them. A new part of the report is one line
here (plus its column and migration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from crm.major.rules import RiskLevel


@dataclass(frozen=True)
class Field:
    """One part of the form. `required`: filing needs it (a draft may leave anything empty)."""

    name: str
    zh: str
    en: str
    kind: Literal["text", "risk"] = "text"
    max_len: int = 0
    required: bool = False

    @property
    def default(self) -> Any:
        return RiskLevel.NONE if self.kind == "risk" else ""


MAX_TEXT = 5000
FIELDS: tuple[Field, ...] = (
    Field("facts", "事件经过", "Facts", max_len=MAX_TEXT, required=True),
    Field("cause", "原因分析", "Cause", max_len=MAX_TEXT, required=True),
    Field("customer_demands", "客户诉求", "Customer demands", max_len=MAX_TEXT, required=True),
    Field("actions_taken", "已采取措施", "Actions taken", max_len=MAX_TEXT, required=True),
    Field("media_risk", "媒体曝光风险", "Media risk", kind="risk", max_len=8),
    Field("legal_risk", "法律纠纷风险", "Legal risk", kind="risk", max_len=8),
    Field("risk_note", "媒体/法律升级风险说明", "Media / legal escalation risk", max_len=MAX_TEXT, required=True),
    Field("proposed_settlement", "拟处理方案", "Proposed settlement", max_len=MAX_TEXT, required=True),
)
TEXT_FIELDS = tuple(f for f in FIELDS if f.kind == "text")
RISK_FIELDS = tuple(f for f in FIELDS if f.kind == "risk")

# 责任人: one row per person, named; filing needs at least one.
PEOPLE = "responsible_people"
MAX_PEOPLE = 20
PERSON_FIELDS: tuple[Field, ...] = (
    Field("name", "姓名", "Name", max_len=50, required=True),
    Field("position", "职务", "Position", max_len=50),
    Field("phone", "电话", "Phone", max_len=20),
)

TextType = Callable[[int], Any]  # max_len → the type of a text field (plain `str`, or bounded for the API)


def person_struct(name: str, text: TextType, *, module: str) -> type[msgspec.Struct]:
    """A responsible person as a Struct; the name must be given."""
    return msgspec.defstruct(
        name,
        [(f.name, text(f.max_len)) if f.required else (f.name, text(f.max_len), "") for f in PERSON_FIELDS],
        forbid_unknown_fields=True, module=module,
    )


def report_struct(
    name: str, text: TextType, people: Any, *, module: str, namespace: dict | None = None
) -> type[msgspec.Struct]:
    """The report as a Struct, every field optional (a draft); `people` is the type of the people list."""
    fields = [(f.name, text(f.max_len) if f.kind == "text" else RiskLevel, f.default) for f in FIELDS]
    return msgspec.defstruct(
        name, [*fields, (PEOPLE, people, [])], kw_only=True, forbid_unknown_fields=True, module=module,
        namespace=namespace,
    )


def plain_text(_: int) -> type[str]:
    return str
