"""Generated data for the report tests: a November 2026 of complaints, a major complaint, callbacks and visits
over the three stores of a test tenant, and the helpers that run the report job in the test's process."""

from __future__ import annotations

from datetime import date

from crm.complaints.tables import Complaint
from crm.reports.tables import ReportRequest
from tests.support.builders import at
from tests.support.builders import callback_row as callback
from tests.support.builders import complaint_row as complaint
from tests.support.builders import customer_with_car as car_of
from tests.support.builders import major_row as major
from tests.support.builders import visit_row as visit
from tests.support.dashboards import settle
from workers import reports as report_jobs

NOW = at(date(2026, 12, 2), 10)  # after the month


def d(day: int) -> date:
    return date(2026, 11, day)


async def build_november(tenant) -> None:
    """Store A: five complaints (channels, causes, a late acceptance, a major one); B: one; C: none."""
    a, b = tenant.store_a, tenant.store_b
    car = await car_of(tenant, "A")
    await complaint(tenant, car, a, at(d(4), 10), state="closed", channel="hotline_400", liability="liable",
                    cause_category="service", cause_department="service", accepted_at=at(d(4), 10, 30),
                    handled_at=at(d(4), 15), resolved_at=at(d(5), 10), report_state="accepted")
    c2 = await complaint(tenant, car, a, at(d(10), 9), state="accepted", accepted_at=at(d(10), 13),
                         missed=("accept",), due_at=at(d(11), 13))
    await Complaint.update({Complaint.content: "新车交付后发现漆面划痕，要求更换车门"}).where(Complaint.id == c2)
    await major(tenant, c2, a, at(d(10), 9, 30), filed=at(d(11), 12))
    await complaint(tenant, car, a, at(d(20), 14), state="fed_back", via_group=True, reopen_count=1,
                    cause_category="product", cause_department="parts", accepted_at=at(d(20), 14, 10),
                    handled_at=at(d(20), 15), resolved_at=at(d(20), 16), fed_back_at=at(d(20), 17),
                    report_state="submitted")
    await complaint(tenant, car, a, at(d(22), 11), channel="online")
    await complaint(tenant, car, a, at(d(12), 9), state="voided", accepted_at=at(d(12), 9, 5))
    await callback(tenant, car, a, at(d(3), 10), first_attempt=at(d(3), 11), satisfied=True)
    await callback(tenant, car, a, at(d(4), 10), first_attempt=at(d(4), 11), satisfied=False)
    await callback(tenant, car, a, at(d(6), 10), state="unreachable", attempts=3, first_attempt=at(d(9), 10))
    for left in (at(d(2), 17), at(d(15), 11), at(d(16), 11)):
        await visit(tenant, car, a, left)
    car_b = await car_of(tenant, "B")
    await complaint(tenant, car_b, b, at(d(5), 10))
    await callback(tenant, car_b, b, at(d(5), 10), first_attempt=at(d(5), 11), satisfied=True)
    await settle()


async def run_render_job(report_id: int, attempt: int = 1) -> dict:
    """The worker's job function, as arq calls it (the PDF itself is made in the renderer's child process)."""
    return await report_jobs.render_report({"job_try": attempt}, report_id)


async def status_of(report_id: int) -> dict:
    return await ReportRequest.select().where(ReportRequest.id == report_id).first()
