"""A customer's whole story in one timeline (客户档案时间线), newest first.

Each area's rows are read through the caller's scope and only for the profiles `customer_profile` gives
the caller (the customer's own store, plus the same person's other stores for group-level readers), so an
entry of a store the caller may not see never appears. Complaints and callbacks only for the roles that may
read them there.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from crm.callbacks.rules import DEFAULT_RULES
from crm.callbacks.service import CALLBACK_READERS, OUTCOME_LABELS, STATES as CALLBACK_STATES
from crm.callbacks.surveys import SURVEY_TITLES, factor_label, level_label
from crm.callbacks.tables import Callback, CallbackScore
from crm.complaints import workflow
from crm.complaints.tables import Complaint
from crm.complaints.workflow import State
from crm.customers.records import CustomerProfile
from crm.customers.service import customer_profile
from tenants.scope import Scope

# Entry kind → (中文, English).
KINDS = {
    "vehicle": ("车辆", "Vehicle"),
    "sale": ("交车", "Delivery"),
    "visit": ("维修保养", "Service visit"),
    "complaint": ("投诉", "Complaint"),
    "callback": ("回访", "Callback"),
    "care": ("关怀", "Care"),
    "survey": ("满意度调查", "Survey"),
}
_EXCERPT = 80


class TimelineEntry(msgspec.Struct, kw_only=True):
    """One event of a customer's story, with the page it links to."""

    at: datetime
    kind: str  # a key of KINDS
    store_name: str
    title_zh: str
    title_en: str
    detail_zh: str = ""
    detail_en: str = ""
    state_zh: str = ""
    state_en: str = ""
    link: str = ""


async def customer_timeline(*, actor: Scope, customer_id: int,
                            profile: CustomerProfile | None = None) -> list[TimelineEntry]:
    """Every visible event of the customer across the stores the caller may see; NotFound outside the scope."""
    profile = profile or await customer_profile(actor=actor, customer_id=customer_id)
    stores = [(profile.customer, profile.store_name, profile.vehicles, profile.sales, profile.visits)]
    stores += [(h.customer, h.store_name, h.vehicles, h.sales, h.visits) for h in profile.other_stores]
    store_names = {c.store_id: name for c, name, *_ in stores}
    entries: list[TimelineEntry] = []
    for customer, store_name, vehicles, sales, visits in stores:
        link = f"/customers/{customer.id}"
        plates = {v.id: v.plate or v.vin for v in vehicles}
        entries += [TimelineEntry(
            at=v.created_at, kind="vehicle", store_name=store_name, link=f"{link}#vehicles",
            title_zh=f"登记车辆 {v.plate or v.vin}", title_en=f"Vehicle {v.plate or v.vin}",
            detail_zh=" ".join(filter(None, [v.brand, v.model])), detail_en=" ".join(filter(None, [v.brand, v.model])),
        ) for v in vehicles]
        entries += [TimelineEntry(
            at=s.delivered_at, kind="sale", store_name=store_name, link=f"{link}#sales",
            title_zh=f"交车 {plates.get(s.vehicle_id, '')}", title_en=f"Delivered {plates.get(s.vehicle_id, '')}",
            detail_zh=f"销售顾问：{s.salesperson}" if s.salesperson else "",
            detail_en=f"Salesperson: {s.salesperson}" if s.salesperson else "",
        ) for s in sales]
        entries += [TimelineEntry(
            at=x.left_at, kind="visit", store_name=store_name, link=f"{link}#visits",
            title_zh=f"维修保养 {plates.get(x.vehicle_id, '')}", title_en=f"Service visit {plates.get(x.vehicle_id, '')}",
            detail_zh=f"工单号：{x.repair_order_no}" if x.repair_order_no else "",
            detail_en=f"Repair order: {x.repair_order_no}" if x.repair_order_no else "",
        ) for x in visits]
    ids = [c.id for c, *_ in stores]
    if actor.has_role(*workflow.READERS):
        entries += await _complaints(actor, ids, store_names)
    if actor.has_role(*CALLBACK_READERS):
        entries += await _callbacks(actor, ids, store_names)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


async def _complaints(actor: Scope, customer_ids: list[int], store_names: dict[int, str]) -> list[TimelineEntry]:
    rows = await actor.filter(
        Complaint.select(Complaint.id, Complaint.store, Complaint.state, Complaint.content, Complaint.received_at),
        Complaint,
    ).where(Complaint.customer.is_in(customer_ids))
    return [TimelineEntry(
        at=r["received_at"], kind="complaint", store_name=store_names.get(r["store"], ""),
        title_zh=f"投诉 #{r['id']}", title_en=f"Complaint #{r['id']}",
        detail_zh=_excerpt(r["content"]), detail_en=_excerpt(r["content"]),
        state_zh=State(r["state"]).title_zh, state_en=State(r["state"]).title_en,
        link=f"/complaints/{r['id']}",
    ) for r in rows]


async def _callbacks(actor: Scope, customer_ids: list[int], store_names: dict[int, str]) -> list[TimelineEntry]:
    rows = await actor.filter(Callback.select(), Callback).where(Callback.customer.is_in(customer_ids))
    scores = await actor.filter(CallbackScore.select(), CallbackScore).where(
        CallbackScore.callback.is_in([r["id"] for r in rows] or [-1])
    ).order_by(CallbackScore.id)
    by_callback: dict[int, list[dict]] = {}
    for s in scores:
        by_callback.setdefault(s["callback"], []).append(s)
    entries = []
    for r in rows:
        rule = DEFAULT_RULES.get(r["kind"])
        name_zh, name_en = (rule.label_zh, rule.label_en) if rule else (r["kind"], r["kind"])
        state_zh, state_en = CALLBACK_STATES.get(r["state"], (r["state"], r["state"]))
        answer = [OUTCOME_LABELS.get(r["outcome"]), level_label(r["satisfaction"])]
        answer = [a for a in answer if a]
        store_name = store_names.get(r["store"], "")
        entries.append(TimelineEntry(
            at=r["completed_at"] or r["due_at"], kind="callback" if r["channel"] == "phone" else "care",
            store_name=store_name, title_zh=name_zh, title_en=name_en,
            detail_zh=",".join(a[0] for a in answer), detail_en=", ".join(a[1] for a in answer),
            state_zh=state_zh, state_en=state_en, link=f"/callbacks/{r['id']}",
        ))
        answered = by_callback.get(r["id"])
        if answered:
            survey = answered[0]["survey"]
            title = SURVEY_TITLES.get(survey, (f"{survey.upper()} 满意度调查", f"{survey.upper()} survey"))
            entries.append(TimelineEntry(
                at=answered[-1]["recorded_at"], kind="survey", store_name=store_name,
                title_zh=title[0], title_en=title[1],
                detail_zh="，".join(_answer(s, 0, "不适用") for s in answered),
                detail_en=", ".join(_answer(s, 1, "n/a") for s in answered), link=f"/callbacks/{r['id']}",
            ))
    return entries


def _answer(score: dict, language: int, not_applicable: str) -> str:
    """One factor's answer by its catalogue label: "销售人员 9"."""
    label = factor_label(score["survey"], score["factor"])[language]
    return f"{label} {score['score'] if score['score'] is not None else not_applicable}"


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"
