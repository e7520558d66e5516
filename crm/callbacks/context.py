"""What a callback's script and call screen show: the customer, the car, and what the callback follows up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from crm import clock
from crm.callbacks.rules import DEFAULT_RULES
from crm.callbacks.scripts import REPAIR_TYPES_ZH, days_ago_zh, salutation
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from tenants.tables import Store
from tenants.scope import Scope


@dataclass
class CallContext:
    customer: dict
    vehicle: dict | None
    source: dict
    store_name: str
    tz: ZoneInfo
    values: dict  # the script's placeholders


async def call_context(cb: dict, *, agent_name: str) -> CallContext:
    """Load everything a callback's script needs, fresh from the records (one callback row in, no ORM objects)."""
    from crm.calendar.service import calendar_for_store

    store_scope = Scope.of(cb)  # the callback's customer, vehicle and source are all of its store
    customer = await store_scope.select(Customer).where(Customer.id == cb["customer"]).first() or {}
    vehicle = await store_scope.select(Vehicle).where(Vehicle.id == cb["vehicle"]).first() if cb["vehicle"] else None
    store = await Store.select(Store.name).where(Store.id == cb["store"]).first() or {"name": ""}
    tz = (await calendar_for_store(cb["store"])).tz
    source = await _source(cb, tz)
    values = _script_values(cb, customer, vehicle, source, store["name"], agent_name, tz)
    return CallContext(customer=customer, vehicle=vehicle, source=source, store_name=store["name"], tz=tz,
                       values=values)


def car_name(brand: str | None, model: str | None) -> str:
    brand, model = brand or "", model or ""
    return model if model.startswith(brand) else f"{brand}{model}"


async def _source(cb: dict, tz: ZoneInfo) -> dict:
    """What the callback follows up, as the call screen shows it."""
    if cb["source_type"] == "sale":
        sale = await Scope.of(cb).select(Sale, Sale.order_no, Sale.salesperson, Sale.delivered_at).where(
            Sale.id == cb["source_id"]).first()
        if sale:
            return {"type": "sale", "label": "交车", "order_no": sale["order_no"],
                    "salesperson": sale["salesperson"], "at": sale["delivered_at"],
                    "on": sale["delivered_at"].astimezone(tz).date().isoformat()}
    if cb["source_type"] == "service_visit":
        visit = await Scope.of(cb).select(
            ServiceVisit, ServiceVisit.repair_order_no, ServiceVisit.advisor, ServiceVisit.repair_type, ServiceVisit.mileage,
            ServiceVisit.left_at, ServiceVisit.next_visit_on, ServiceVisit.amount,
        ).where(ServiceVisit.id == cb["source_id"]).first()
        if visit:
            return {"type": "service_visit", "label": "维修保养", "repair_order_no": visit["repair_order_no"],
                    "advisor": visit["advisor"], "repair_type": visit["repair_type"],
                    "repair_type_label": REPAIR_TYPES_ZH.get(visit["repair_type"], visit["repair_type"]),
                    "mileage": visit["mileage"], "at": visit["left_at"],
                    "on": visit["left_at"].astimezone(tz).date().isoformat(),
                    "next_visit_on": visit["next_visit_on"].isoformat() if visit["next_visit_on"] else None}
    if cb["source_type"] == "complaint":
        return {"type": "complaint", "label": "投诉", "complaint_id": cb["source_id"], "at": cb["anchor_at"],
                "on": cb["anchor_at"].astimezone(tz).date().isoformat()}
    return {"type": cb["source_type"], "label": "客户关怀", "at": cb["anchor_at"],
            "on": cb["anchor_at"].astimezone(tz).date().isoformat()}


def _script_values(cb: dict, customer: dict | None, vehicle: dict | None, source: dict, store_name: str,
                   agent: str, tz: ZoneInfo) -> dict:
    customer = customer or {}
    vehicle = vehicle or {}
    today = clock.now().astimezone(tz).date()
    anchor_day = cb["anchor_at"].astimezone(tz).date()
    rule = DEFAULT_RULES.get(cb["kind"])
    return {
        "customer": salutation(name=customer.get("name", ""), gender=customer.get("gender", ""),
                               kind=customer.get("kind", "private"),
                               contact_person=customer.get("contact_person", "")),
        "customer_name": customer.get("name"),
        "store": store_name,
        "agent": agent,
        "car": car_name(vehicle.get("brand"), vehicle.get("model")),
        "plate": vehicle.get("plate"),
        "vin_tail": (vehicle.get("vin") or "")[-6:],
        "days_ago": max((today - anchor_day).days, 0),
        "when": days_ago_zh(max((today - anchor_day).days, 0)),
        "delivered_on": _zh_date(source.get("on")) if source.get("type") == "sale" else None,
        "visit_on": _zh_date(source.get("on")) if source.get("type") == "service_visit" else None,
        "advisor": source.get("advisor"),
        "salesperson": source.get("salesperson"),
        "repair_type": source.get("repair_type_label"),
        "mileage": source.get("mileage"),
        "next_visit_on": _zh_date(source.get("next_visit_on")),
        "insurance_expires_on": _zh_date(vehicle.get("insurance_expires_on")),
        "inspection_due_on": _zh_date(vehicle.get("inspection_due_on")),
        "holiday": rule.holiday if rule else "",
    }


def _zh_date(value) -> str | None:
    if not value:
        return None
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"
