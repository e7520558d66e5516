"""Hand-built raw rows for the dashboard tests: complaints, callbacks, scores, visits at exact instants.

Rows are inserted directly (not through the services) so a test states every timestamp a metric depends
on; the database triggers queue the touched store-days exactly as for rows the services write.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm.analytics.rollups import refresh
from crm.callbacks.surveys import level_of_yes_no
from crm.callbacks.tables import Callback, CallbackScore
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss
from crm.customers.tables import ServiceVisit
from crm.major.tables import MajorComplaint
from tests.support.complaints import Car, customer_with_car

SHANGHAI = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


async def car_of(tenant, store: str) -> Car:
    return await customer_with_car(tenant, store)


async def complaint(tenant, car: Car, store_id: int, received: datetime, *, state: str = "received",
                    channel: str = "walk_in", missed: tuple[str, ...] = (), **columns) -> int:
    row = Complaint(group=tenant.group_id, store=store_id, channel=channel, customer=car.customer_id,
                    vehicle=car.vehicle_id, complainant_name="张三", content="投诉", state=state, received_at=received,
                    routed_at=received, updated_at=received, **columns)
    await row.save()
    for kind in missed:
        await ComplaintDeadlineMiss(group=tenant.group_id, store=store_id, complaint=row.id, kind=kind,
                                    due_at=received, missed_at=received, responsible_role="store_cr_manager",
                                    dedupe_key=f"t{next(_serial)}:{row.id}:{kind}").save()
    return row.id


async def major(tenant, complaint_id: int, store_id: int, marked: datetime, *, filed: datetime | None = None,
                overdue: bool = False) -> int:
    row = MajorComplaint(group=tenant.group_id, store=store_id, complaint=complaint_id, marked_at=marked,
                         report_due_at=marked + timedelta(hours=24), report_filed_at=filed,
                         report_status="filed" if filed else "missing", report_overdue=overdue)
    await row.save()
    return row.id


async def callback(tenant, car: Car, store_id: int, due: datetime, *, channel: str = "phone",
                   state: str = "done", attempts: int = 1, first_attempt: datetime | None = None,
                   satisfied: bool | None = None, deadline: datetime | None = None, survey: str = "") -> int:
    row = Callback(group=tenant.group_id, store=store_id, customer=car.customer_id, vehicle=car.vehicle_id,
                   kind="service_3d", channel=channel, survey=survey, source_type="service_visit", source_id=0,
                   dedupe_key=f"test-{next(_serial)}-{due.isoformat()}", anchor_at=due, due_at=due,
                   deadline_at=deadline or due + timedelta(days=2), state=state, attempts=attempts,
                   first_attempt_at=first_attempt if attempts else None,
                   satisfaction=level_of_yes_no(satisfied), created_at=due)
    await row.save()
    return row.id


async def scores(tenant, callback_id: int, store_id: int, survey: str, values: list[int], when: datetime) -> None:
    for n, value in enumerate(values):
        await CallbackScore(group=tenant.group_id, store=store_id, callback=callback_id, survey=survey,
                            factor=f"f{n}", score=value, recorded_at=when).save()


async def visit(tenant, car: Car, store_id: int, left: datetime, *, cancelled: bool = False) -> int:
    row = ServiceVisit(group=tenant.group_id, store=store_id, customer=car.customer_id, vehicle=car.vehicle_id,
                       left_at=left, created_at=left, updated_at=left, repair_order_no=f"RO{next(_serial)}",
                       cancelled_at=left if cancelled else None)
    await row.save()
    return row.id


async def settle() -> None:
    """What the worker's cron does: recompute every queued store-day."""
    while (await refresh())["store_days"]:
        pass
