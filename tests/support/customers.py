"""Customer-area helpers: a small cross-store world of customers, and uploading import files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from crm.customers import service
from crm.imports import service as imports
from crm.imports.tables import ImportJob
from crm.queue import forget_jobs
from tests.support.builders import (
    Tenant,
    ago,
    customer_with_car,
    make_id_number,
    make_mobile,
    sale,
    visit,
)

URL = "/api/v1/customers/import"


@dataclass
class Profile:
    customer_id: int
    vehicle_id: int
    sale_id: int
    visit_id: int
    vin: str
    plate: str


@dataclass
class World:
    """张伟 has profiles in stores A and B (one group identity); 王芳 is a customer of store C."""

    tenant: Tenant
    mobile: str
    a: Profile
    b: Profile
    c: Profile
    identity_id: int


async def make_profile(tenant: Tenant, who: str, *, name: str, mobile: str, plate: str, **fields) -> Profile:
    """A customer of the user's store with one vehicle, one delivery and one service visit."""
    car = await customer_with_car(tenant, who.split("@")[1], name=name, mobile=mobile, plate=plate, who=who, **fields)
    number = car.vin[-6:]
    sale_id = await sale(tenant, car, ago(days=200), who=who, order_no=f"SO-{number}", salesperson="刘洋")
    visit_id = await visit(tenant, car, ago(hours=30), who=who, repair_order_no=f"RO-{number}", advisor="陈静")
    return Profile(car.customer_id, car.vehicle_id, sale_id, visit_id, car.vin, car.plate)


async def make_world(tenant: Tenant) -> World:
    mobile = make_mobile()
    a = await make_profile(tenant, "staff@A", name="张伟", mobile=mobile, plate="粤B12345",
                           id_number=make_id_number())
    b = await make_profile(tenant, "staff@B", name="张伟", mobile=f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                           plate="粤BD23456")
    c = await make_profile(tenant, "staff@C", name="王芳", mobile=make_mobile(), plate="沪A12345F")
    hq = await tenant.scope("hq_viewer")
    identity_id = (await service.get_customer(actor=hq, customer_id=a.customer_id)).identity_id
    return World(tenant, mobile, a, b, c, identity_id)


async def upload(client, headers, name: str, content: bytes, **form):
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
    return await client.post(URL, headers=headers, files={"file": (name, content, "application/octet-stream")},
                             data=data)


async def imported(client, headers, name: str, content: bytes, **form) -> dict:
    """Upload an import file (202), run its job here as the worker would, and give the finished job as
    `GET /api/v1/imports/{id}` answers it."""
    response = await upload(client, headers, name, content, **form)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    await run_queued_import(job_id)
    job = await client.get(response.json()["url"], headers=headers)
    assert job.status_code == 200, job.text
    return job.json()


async def import_job(actor, store_id: int, content: bytes = "客户姓名,手机\r\n张三,13900000000\r\n".encode()) -> int:
    """An import job of `store_id`, queued but left alone (its arq job dropped): an id to look up."""
    job = await imports.start_import(actor=actor, kind="customers", store_id=store_id, filename="c.csv",
                                     upload=io.BytesIO(content))
    await forget_jobs([f"import:{job.id}:0"])
    return job.id


async def run_queued_import(job_id: int) -> dict:
    """The import job's work, done in the test's process; its queued arq job is dropped."""
    job = await ImportJob.select(ImportJob.group, ImportJob.store, ImportJob.attempts).where(
        ImportJob.id == job_id).first()
    await forget_jobs([f"import:{job_id}:{job['attempts']}"])
    return await imports.run_import(job_id, job["group"], job["store"])


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
