"""Major-complaint helpers: the gearbox complaint, its workflow up to resolution and closing (through
tests/support/builders.py), reading the major complaint, its alerts, timers and notifications."""

from __future__ import annotations

from crm.major.service import Person, ReportForm
from crm.major.tables import MajorAlert, MajorAlertRecipient, MajorComplaint
from crm.notify.tables import Notification
from crm.timers.tables import Timer
from tests.support import builders
from tests.support.builders import Car, customer_with_car  # noqa: F401 - old import names

# Set for a worker subprocess that loads tests.support.major_hang: where it marks "escalation started".
HANG_MARKER_ENV = "MAJOR_HANG_MARKER"


async def complaint_for(
    tenant, car: Car, *, channel: str = "hotline_400", store: str = "A", who: str = "call_center_agent"
) -> int:
    """A complaint about a gearbox noise that repeated repairs did not cure, for store `store`."""
    return await builders.complaint(tenant, car, who=who, store=store, channel=channel)


async def resolve(tenant, complaint_id: int, store: str = "A") -> None:
    """Accept, assign, analyse, countermeasure (a new gearbox) and resolve, as the store does."""
    await builders.walk_complaint(tenant, complaint_id, "resolved", store=store, countermeasure="更换变速箱总成")


async def close(tenant, complaint_id: int, store: str = "A") -> None:
    """After resolution: feed back to the group, the group revisits (satisfied) and closes."""
    await builders.walk_complaint(tenant, complaint_id, "closed", store=store)


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
