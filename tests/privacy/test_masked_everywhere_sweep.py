"""Every GET route of the app — JSON API, pages, exports, PDFs — visited by roles that read personal data masked:
no full mobile, other phone or ID number of the customer may appear in any answer.

A store-A customer gets every place personal data lives: a changed mobile (the history keeps the old one), an
other phone and an ID number, a due callback, a correction proposed for the other phone (and the department
head's notification of it), a complaint taken by the call center. Path ids are those objects'; a route with
another parameter is left out only if it is in `NOT_ABOUT_CUSTOMERS`, so a new route with customer data is swept
the day it exists.
"""

from __future__ import annotations

import io
import re
import zipfile

import httpx
from litestar.routes import HTTPRoute

from crm.callbacks.tables import Callback
from crm.complaints import attachments
from crm.customers import corrections
from crm.customers import service as customers
from crm.customers.tables import Customer, Sale
from crm.db import transaction
from crm.notify.tables import Notification
from tests.support.attachments import SAMPLES, MemoryUpload
from tests.support.builders import Car, ago, complaint, make_id_number, make_mobile, visit
from tests.support.callbacks import make_due
from tests.support.customers import import_job, run_queued_import
from tests.support.pdf_text import extract

LOW_ROLES = ("staff@A", "hq_viewer", "brand_manager", "store_gm@A", "department_head@A")
# Parameters of paths that never carry a customer's personal data (reports are figures, major complaints link
# to the complaint), and routes that are streams or not data at all.
NOT_ABOUT_CUSTOMERS = {"report_id", "major_id", "audit_id", "violation_id", "alert_id", "code", "key_id",
                       "override_id", "path", "token", "kind"}
SKIPPED_PATHS = re.compile(r"^/(static|schema|health|metrics|logout|lang)|/events$|/stream$")


async def test_no_answer_shows_a_full_mobile_or_id_number_to_a_role_that_reads_them_masked(
    app, tenant, browser_session
):
    secrets, ids = await _customer_everywhere(tenant)
    probes = _probes(app, ids)
    assert len(probes) > 60, probes

    problems: list[str] = []
    # Searched by the last digits: a page may echo what was typed, but must not complete it.
    query = {"q": secrets[0][-4:], "customer_id": ids["customer_id"], "vehicle_id": ids["vehicle_id"]}
    for who in LOW_ROLES:
        page_client = await browser_session(tenant.usernames[who])
        api_headers = await tenant.headers(who)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as api:
            for path in probes:
                if path.startswith("/api/"):
                    response = await api.get(path, params=query, headers=api_headers)
                else:
                    response = await page_client.get(path, params=query)
                if response.status_code >= 500:
                    problems.append(f"{who} GET {path}: {response.status_code}")
                    continue
                body = _text(response)
                leaked = [s for s in secrets if s in body]
                if leaked:
                    problems.append(f"{who} GET {path}: shows {leaked}")
    assert not problems, "\n".join(problems)


async def test_the_sweep_would_see_a_clear_mobile(app, tenant, browser_session):
    """The same customer, read by a callback agent (who phones customers), shows the mobile in clear."""
    secrets, ids = await _customer_everywhere(tenant)
    client = await browser_session(tenant.usernames["callback_agent@A"])
    page = await client.get(f"/customers/{ids['customer_id']}")
    assert secrets[0] in page.text and secrets[3] not in page.text


async def _customer_everywhere(tenant) -> tuple[list[str], dict[str, int]]:
    """(mobile, old mobile, other phone, ID number, proposed phone), and the ids of what holds them."""
    old_mobile, mobile, phone2, id_number, proposed = (make_mobile(), make_mobile(), make_mobile(),
                                                       make_id_number(), make_mobile())
    callback_id = await make_due(tenant, tenant.store_a, mobile=old_mobile, phone2=phone2, id_number=id_number)
    cb = await Callback.select(Callback.customer, Callback.vehicle).where(Callback.id == callback_id).first()
    gm = await tenant.scope("store_gm@A")
    await customers.update_customer(actor=gm, customer_id=cb["customer"], mobile=mobile)
    row = await Customer.select().where(Customer.id == cb["customer"]).first()
    async with transaction():
        await corrections.file_corrections(actor=await tenant.scope("callback_agent@A"), customer=row, vehicle=None,
                                           callback_id=callback_id, proposals={"phone2": proposed},
                                           reason="回访核实")
    car = Car(cb["customer"], cb["vehicle"], mobile, "", "", "A")
    visit_id = await visit(tenant, car, ago(days=3))
    sale = await Sale.select(Sale.id).where(Sale.customer == cb["customer"]).first()
    complaint_id = await complaint(tenant, car, store="A")
    photo = await attachments.add_attachment(actor=gm, complaint_id=complaint_id,
                                             upload=MemoryUpload("车损.png", SAMPLES["png"][1]))
    open_ones = corrections.CorrectionFilter(state="open")
    correction = (await corrections.list_corrections(actor=gm, filters=open_ones)).items[0]
    # An import whose report names the rows it took and refused: the known customer's mobile and a bad one.
    job_id = await import_job(await tenant.scope("store_cr_manager@A"), tenant.store_a,
                              content=f"客户姓名,手机,身份证号\r\n李四,{mobile},{id_number}\r\n王五,abc,\r\n".encode())
    await run_queued_import(job_id)
    note = await Notification.select(Notification.id).where(
        Notification.recipient == tenant.users["department_head@A"]).first()
    ids = {"customer_id": cb["customer"], "vehicle_id": cb["vehicle"], "identity_id": row["group_identity"],
           "callback_id": callback_id, "complaint_id": complaint_id, "correction_id": correction.id,
           "store_id": tenant.store_a, "notification_id": note["id"], "sale_id": sale["id"], "visit_id": visit_id,
           "user_id": tenant.users["staff@A"], "attachment_id": photo.id, "job_id": job_id}
    return [mobile, old_mobile, phone2, id_number, proposed], ids


def _probes(app, ids: dict[str, int]) -> list[str]:
    paths = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "GET" not in route.methods or SKIPPED_PATHS.search(route.path):
            continue
        names = re.findall(r"\{(\w+):\w+\}", route.path)
        if set(names) & NOT_ABOUT_CUSTOMERS:
            continue
        unknown = [n for n in names if n not in ids]
        assert not unknown, f"{route.path}: give {unknown} an object in _customer_everywhere, or list it in NOT_ABOUT_CUSTOMERS"
        paths.append(re.sub(r"\{(\w+):\w+\}", lambda m: str(ids[m.group(1)]), route.path))
    return sorted(set(paths))


def _text(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "")
    if "pdf" in kind:
        return extract(response.content).text
    if "spreadsheet" in kind:
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return response.text
