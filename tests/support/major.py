"""Builders for major-complaint tests: customers with vehicles, complaints through the real
intake, the complaint workflow up to resolution, and counting alerts and notifications."""

from __future__ import annotations

from dataclasses import dataclass

from crm.complaints import service as complaints
from crm.customers.service import create_customer, create_vehicle
from crm.major.service import (
    Person,
    ReportForm,
)
from crm.major.tables import MajorAlert, MajorAlertRecipient, MajorComplaint
from crm.notify.tables import Notification
from crm.timers.tables import Timer
from tests.customer_factories import make_mobile, make_vin

# Set for a worker subprocess that loads tests.support.major_hang: where it marks "escalation started".
HANG_MARKER_ENV = "MAJOR_HANG_MARKER"


@dataclass
class Car:
    customer_id: int
    vehicle_id: int
    vin: str
    mobile: str


async def customer_with_car(tenant, store: str = "A", *, vin: str | None = None, mobile: str | None = None) -> Car:
    actor = await tenant.scope(f"store_cr_manager@{store}")
    mobile = mobile or make_mobile()
    customer_id = await create_customer(actor=actor, name="王先生", mobile=mobile)
    vin = vin or make_vin()
    vehicle_id = await create_vehicle(actor=actor, customer_id=customer_id, vin=vin, plate="", model="帕萨特")
    return Car(customer_id, vehicle_id, vin, mobile)


async def complaint_for(
    tenant, car: Car, *, channel: str = "hotline_400", store: str = "A", who: str = "call_center_agent"
) -> int:
    actor = await tenant.scope(who)
    store_id = {"A": tenant.store_a, "B": tenant.store_b, "C": tenant.store_c}[store]
    return await complaints.create_complaint(
        actor=actor, store_id=store_id, customer_id=car.customer_id, vehicle_id=car.vehicle_id,
        channel=channel, content="变速箱异响,多次维修未解决", expected_solution="更换变速箱",
    )


async def resolve(tenant, complaint_id: int, store: str = "A") -> None:
    """Accept, assign, analyse, countermeasure and resolve, as the store does."""
    manager = await tenant.scope(f"store_cr_manager@{store}")
    await complaints.accept_complaint(actor=manager, complaint_id=complaint_id)
    await complaints.assign_handler(
        actor=manager, complaint_id=complaint_id, handler_user_id=tenant.users[f"department_head@{store}"],
        department="service",
    )
    head = await tenant.scope(f"department_head@{store}")
    await complaints.record_cause(
        actor=head, complaint_id=complaint_id, cause_category="service", department="service", liability="liable"
    )
    await complaints.record_countermeasure(actor=head, complaint_id=complaint_id, countermeasure="更换变速箱总成")
    await complaints.resolve_complaint(
        actor=head, complaint_id=complaint_id, resolution="已更换", improvement_measures="加强终检"
    )


async def close(tenant, complaint_id: int, store: str = "A") -> None:
    """After resolution: feed back to the group, the group revisits (satisfied) and closes."""
    manager = await tenant.scope(f"store_cr_manager@{store}")
    await complaints.feed_back_to_group(actor=manager, complaint_id=complaint_id)
    group_cs = await tenant.scope("group_customer_service")
    await complaints.record_revisit(actor=group_cs, complaint_id=complaint_id, satisfied=True)
    await complaints.close_complaint(actor=group_cs, complaint_id=complaint_id)


async def major_of(complaint_id: int) -> dict | None:
    return await MajorComplaint.select().where(MajorComplaint.complaint == complaint_id).first()


async def major_of_id(major_id: int) -> dict:
    return await MajorComplaint.select().where(MajorComplaint.id == major_id).first()


async def alert_levels(major_id: int) -> list[int]:
    rows = await MajorAlert.select(MajorAlert.level).where(MajorAlert.major == major_id).order_by(MajorAlert.level)
    return [r["level"] for r in rows]


async def alert_recipients(major_id: int, level: int) -> set[int]:
    rows = await MajorAlertRecipient.select(MajorAlertRecipient.user).where(
        MajorAlertRecipient.alert.major == major_id, MajorAlertRecipient.alert.level == level
    )
    return {r["user"] for r in rows}


async def alert_id(major_id: int, level: int) -> int:
    row = await MajorAlert.select(MajorAlert.id).where(MajorAlert.major == major_id, MajorAlert.level == level).first()
    return row["id"]


async def notifications(major_id: int, *, kind: str = "major.alert", user_id: int | None = None,
                        channel: str = "inapp") -> list[dict]:
    """Notifications about one major complaint (its link), oldest first."""
    query = Notification.select().where(
        Notification.link == f"/major/{major_id}", Notification.kind == kind, Notification.channel == channel
    )
    if user_id is not None:
        query = query.where(Notification.recipient == user_id)
    return await query.order_by(Notification.id)


async def pending_major_timers(major_id: int) -> list[dict]:
    alert_ids = [r["id"] for r in await MajorAlert.select(MajorAlert.id).where(MajorAlert.major == major_id)]
    query = Timer.select(Timer.kind, Timer.due_at, Timer.payload, Timer.subject_type).where(Timer.state == "pending")
    subject = (Timer.subject_type == "major_complaint") & (Timer.subject_id == major_id)
    if alert_ids:
        subject = subject | ((Timer.subject_type == "major_alert") & Timer.subject_id.is_in(alert_ids))
    return await query.where(subject).order_by(Timer.due_at).output(load_json=True)


def complete_report() -> ReportForm:
    return ReportForm(
        facts="客户因变速箱异响第三次到店,于展厅门口堵门。", cause="维修未彻底解决异响。",
        customer_demands="要求退车。", actions_taken="总经理已接待,安排技术经理复检。",
        risk_note="客户称将联系媒体。", proposed_settlement="更换变速箱总成并延保一年。",
        responsible_people=[Person(name="张经理", position="售后经理", phone="13800000000")],
    )
