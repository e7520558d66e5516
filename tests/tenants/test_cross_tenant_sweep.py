"""Cross-tenant sweep (租户隔离): every route with an id in its path, called with another tenant's ids.

Tenant A's store A gets one of each store-owned object the API can create (a customer with a
vehicle, a delivery and a service visit, the callbacks the delivery plans, a complaint with an attachment and a
compensation request, the notification the complaint raised, a DMS key). Then every route of the
app whose path has an `{..._id}` parameter is called, with every method it has, with tenant A's ids:

* by one user of each role of another group;
* by the users of tenant A's own group who cannot see store A (store B's staff, the manager of the
  other brand division).

The answer must be 404 — exactly what an id that does not exist gets, so ids leak nothing — never
2xx and never 5xx. The one exception is 403 from a role check that runs before any lookup: the test
accepts a 403 only when the same call with an id that does not exist is refused the same way, so the
refusal says nothing about the id. Today that is: the PATCH/DELETE routes of customers, vehicles,
sales and visits for roles that may not edit customer records (HQ viewer, brand manager, legal —
a route guard); the web callback pages (`/callbacks/{callback_id}…`) for roles that may not read or
work callbacks (route guards); marking a complaint major, and filing or forwarding the major-complaint
report, for roles that may not (route guards and the service's role check); and deleting a group's
calendar override for anyone but a group admin (the service checks the role first); and the platform
console's group routes (`/platform/groups/{group_id}/…`) for everyone of a group (route guards). The JSON API of complaints and callbacks looks the row
up first and answers 404 to everyone.

Path parameters are filled from `PATH_IDS` (an id parameter → the column of the tenant-A object whose
value goes there) and `OTHER_PARAMS`. A new endpoint whose parameter is in neither fails the test with
its name: add it, and build the object in `_tenant_a_objects`. Request bodies are made from the
handler's msgspec type (the smallest valid body), so the lookup — not validation — decides.
"""

from __future__ import annotations

import asyncio
import re
import typing
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import msgspec
from litestar.routes import HTTPRoute
from piccolo.columns import Column

from crm import clock
from crm.calendar import overrides
from crm.calendar.tables import CalendarOverride
from crm.callbacks import dms
from crm.callbacks.tables import Callback, DmsWebhookKey
from crm.complaints import accountability
from crm.complaints import service as complaints
from crm.complaints import attachments
from crm.complaints.tables import Complaint, ComplaintAttachment, ComplaintCompensation, ProcessViolation
from crm.complaints.workflow import ACTIONS
from crm.customers import corrections
from crm.customers import service as customers
from crm.customers.tables import Customer, CustomerCorrection, CustomerIdentity, Sale, ServiceVisit, Vehicle
from crm.db import transaction
from crm.major import service as major
from crm.major.rules import MajorReason
from crm.major.tables import MajorAlert, MajorComplaint
from crm.notify.tables import Notification
from crm.reports import service as reports
from crm.reports.tables import ReportRequest
from crm.imports.tables import ImportJob
from crm.satisfaction import mystery
from crm.satisfaction.tables import MysteryAudit
from tenants.roles import GROUP_ROLES, STORE_ROLES
from tenants.accounts import issue_token
from tenants.tables import ApiToken, BrandDivision, DealerGroup, Region, Store, User
from tests.support.attachments import SAMPLES, MemoryUpload
from tests.support.builders import make_mobile
from tests.support.customers import import_job, make_profile
from tests.support.builders import PASSWORD, Tenant

# An id parameter of a path → the column of the tenant-A object whose value is used.
PATH_IDS: dict[str, Column] = {
    "customer_id": Customer.id,
    "identity_id": CustomerIdentity.id,
    "vehicle_id": Vehicle.id,
    "sale_id": Sale.id,
    "visit_id": ServiceVisit.id,
    "complaint_id": Complaint.id,
    "compensation_id": ComplaintCompensation.id,
    "attachment_id": ComplaintAttachment.id,
    "violation_id": ProcessViolation.id,
    "notification_id": Notification.id,
    "store_id": Store.id,
    "callback_id": Callback.id,
    "key_id": DmsWebhookKey.key_id,
    "override_id": CalendarOverride.id,  # group-owned: store B shares it, but only group admins may delete it
    "major_id": MajorComplaint.id,
    "alert_id": MajorAlert.id,
    "correction_id": CustomerCorrection.id,
    "report_id": ReportRequest.id,
    "job_id": ImportJob.id,  # an import job of store A
    "audit_id": MysteryAudit.id,
    "group_id": DealerGroup.id,  # the platform console's: refused by role (403) to everyone of a group
    "user_id": User.id,  # store A's staff member (people pages and API)
    "division_id": BrandDivision.id,  # group-owned: only group admins may change it
    "region_id": Region.id,  # group-owned: only group admins may change it
    "token_id": ApiToken.id,  # store A's staff member's API token (the user's group is the tenant's)
}
# Other parameters of those paths → every value to try.
OTHER_PARAMS: dict[str, list[str]] = {
    "action": sorted(ACTIONS),  # the web complaint page's steps
    "step": sorted(corrections.ACTIONS),  # the correction list's buttons
}
# GET routes only a group admin reads (a path regex → who of tenant A reads them instead of the CR manager).
GROUP_ADMIN_READS = re.compile(r"^/api/v1/users/\d+/tokens")
SKIPPED_METHODS = {"OPTIONS", "HEAD"}
MISSING_INT, MISSING_STR = str(2**31 - 1), "no-such-id"


async def test_no_route_serves_another_tenants_ids(app, client, tenant, other_tenant):
    assert not _unmapped_parameters(app), "see test_every_id_parameter_of_the_app_is_mapped"
    objects = await _tenant_a_objects(tenant)
    params = await _path_values(objects, tenant)
    probes = _probes(app, params)
    assert probes, "no route with an id parameter found"

    # Store A's customer-relations manager sees everything built, the notification addressed to them included.
    owner = _Caller(tenant, "store_cr_manager@A", "store A's own customer-relations manager")
    admin = _Caller(tenant, "group_admin", "tenant A's group admin")
    outsiders = [
        _Caller(other_tenant, key, f"other group's {key}")
        for key in [*sorted(GROUP_ROLES), *(f"{role}@A" for role in sorted(STORE_ROLES))]
    ]
    neighbours = [
        _Caller(tenant, key, key) for key in [*(f"{role}@B" for role in sorted(STORE_ROLES)), "brand_manager@div2"]
    ]

    problems: list[str] = []
    async with _Sessions(app) as sessions:
        for probe in probes:
            if probe.method == "GET":
                reader = admin if GROUP_ADMIN_READS.match(probe.path) else owner
                status = (await probe.call(client, sessions, reader)).status_code
                if status >= 400:  # a page that opens something may redirect to it
                    problems.append(f"{probe}: {reader} gets {status}, not the object — is the id map right?")
        for probe in probes:
            for caller in [*outsiders, *neighbours]:
                status = (response := await probe.call(client, sessions, caller)).status_code
                if status == 404:
                    continue
                if status == 403 and (await probe.call(client, sessions, caller, missing=True)).status_code == 403:
                    continue  # refused by role before any lookup, as for an id that does not exist
                problems.append(f"{probe} as {caller}: {status}, expected 404 {response.text[:160]!r}")
    assert not problems, f"{len(problems)} cross-tenant calls answered wrongly:\n" + "\n".join(problems)


async def test_every_id_parameter_of_the_app_is_mapped(app):
    unmapped = _unmapped_parameters(app)
    assert not unmapped, (
        "path parameters the cross-tenant sweep cannot fill: " + ", ".join(unmapped)
        + ".\nAdd each to PATH_IDS (the column of the object whose value fills it) or OTHER_PARAMS in "
        "tests/tenants/test_cross_tenant_sweep.py, and build one such object in `_tenant_a_objects`."
    )


# ---------------------------------------------------------------- tenant A's objects


async def _tenant_a_objects(tenant: Tenant) -> dict[type, int]:
    """One object of each kind in store A, made the way users make them."""
    profile = await make_profile(tenant, "store_cr_manager@A", name="赵敏", mobile=make_mobile(), plate="沪A5S001")
    customer = await Customer.objects().get(Customer.id == profile.customer_id)
    manager, head = await tenant.scope("store_cr_manager@A"), await tenant.scope("department_head@A")
    # A fresh delivery plans its callbacks (the profile's is too old to be called about).
    await customers.record_sale(actor=manager, customer_id=profile.customer_id, vehicle_id=profile.vehicle_id,
                                delivered_at=clock.now() - timedelta(hours=1))
    callback = await Callback.select(Callback.id).where(Callback.customer == profile.customer_id).first()
    key = await dms.issue_key(actor=await tenant.scope("store_gm@A"), store_id=tenant.store_a)
    [override] = await overrides.set_overrides(
        actor=await tenant.scope("group_admin"), entries=[overrides.OverrideEntry(date(2031, 10, 8), "workday")]
    )
    agent = await tenant.scope("call_center_agent")
    complaint_id = await complaints.create_complaint(
        actor=agent, store_id=tenant.store_a, customer_id=profile.customer_id, vehicle_id=profile.vehicle_id,
        channel="hotline_400", content="交车时承诺的保养券没有给",
    )
    await complaints.accept_complaint(actor=manager, complaint_id=complaint_id)
    await complaints.assign_handler(
        actor=manager, complaint_id=complaint_id, handler_user_id=head.user_id, department="sales"
    )
    await complaints.record_cause(
        actor=head, complaint_id=complaint_id, cause_category="service", department="sales", liability="liable"
    )
    compensation_id = await complaints.request_compensation(
        actor=head, complaint_id=complaint_id, amount=Decimal("300.00"), kind="voucher"
    )
    attachment = await attachments.add_attachment(actor=manager, complaint_id=complaint_id,
                                                  upload=MemoryUpload("交车照片.jpg", SAMPLES["jpg"][1]))
    violation_id = await accountability.record_violation(
        actor=manager, staff_user_id=(await tenant.scope("staff@A")).user_id, department="sales",
        occurred_on=clock.now().date(), description="未按流程交车", complaint_id=complaint_id,
    )
    major_id = await major.mark_major(
        actor=manager, complaint_id=complaint_id, reasons=[major.ReasonInput(MajorReason.REPEAT)]
    )
    alert = await MajorAlert.select(MajorAlert.id).where(MajorAlert.major == major_id).first()
    notification = await Notification.select(Notification.id).where(
        Notification.recipient == manager.user_id, Notification.link == f"/complaints/{complaint_id}"
    ).first()
    async with transaction():
        await corrections.file_corrections(
            actor=await tenant.scope("callback_agent@A"), customer=customer.to_dict(), vehicle=None,
            callback_id=callback["id"], proposals={"address": "上海市徐汇区漕溪北路1号"}, reason="客户新地址",
        )
    correction = await CustomerCorrection.select(CustomerCorrection.id).where(
        CustomerCorrection.customer == profile.customer_id).first()
    report_id = await reports.request_report(actor=manager, kind="complaint_month", month="2026-11",
                                             store_id=tenant.store_a)
    await reports.render_report(report_id, attempt=1)  # ready, so its owner downloads it
    admin = await tenant.scope("group_admin")
    [checkpoint] = await mystery.set_checkpoints(
        actor=admin, brand_division_id=tenant.division_ids[0], entries=[mystery.CheckpointEntry("展厅接待", "主动迎接")]
    )
    audit = await mystery.record_audit(actor=admin, store_id=tenant.store_a, audited_on=date(2026, 11, 20),
                                       results=[mystery.ResultEntry(checkpoint["id"], True)])
    return {
        ImportJob: await import_job(manager, tenant.store_a),
        ReportRequest: report_id,
        CustomerCorrection: correction["id"],
        Customer: profile.customer_id,
        CustomerIdentity: customer.group_identity,
        Vehicle: profile.vehicle_id,
        Sale: profile.sale_id,
        ServiceVisit: profile.visit_id,
        Complaint: complaint_id,
        ComplaintCompensation: compensation_id,
        ComplaintAttachment: attachment.id,
        ProcessViolation: violation_id,
        Notification: notification["id"],
        Store: tenant.store_a,
        Callback: callback["id"],
        DmsWebhookKey: (await DmsWebhookKey.objects().get(DmsWebhookKey.key_id == key.key_id)).id,
        CalendarOverride: override["id"],
        MajorComplaint: major_id,
        MajorAlert: alert["id"],
        MysteryAudit: audit["id"],
        DealerGroup: tenant.group_id,
        User: tenant.users["staff@A"],
        ApiToken: await _token_of(tenant.users["staff@A"]),
        BrandDivision: tenant.division_ids[0],
        Region: (await Store.select(Store.region).where(Store.id == tenant.store_a).first())["region"],
    }


async def _token_of(user_id: int) -> int:
    await issue_token(user_id, 1)
    return (await ApiToken.select(ApiToken.id).where(ApiToken.user == user_id).first())["id"]


async def _path_values(objects: dict[type, int], tenant: Tenant) -> dict[str, list[str]]:
    """Each parameter's values; every object is checked to be tenant A's and in store A (where it has a store):
    a wrong id would make every 404 meaningless."""
    values = {name: list(choices) for name, choices in OTHER_PARAMS.items()}
    for name, column in PATH_IDS.items():
        table = column._meta.table
        assert table in objects, f"no {table.__name__} built in `_tenant_a_objects`"
        row = await table.select().where(table.id == objects[table]).first()
        owner = await User.select().where(User.id == row["user"]).first() if table is ApiToken else row  # via its user
        assert owner is not None and owner.get("group", row["id"] if table is DealerGroup else None) == tenant.group_id, table
        assert owner.get("store", tenant.store_a) == tenant.store_a, table
        values[name] = [str(row[column._meta.name])]
    return values


# ---------------------------------------------------------------- calls


@dataclass(frozen=True, eq=False)
class _Caller:
    tenant: Tenant
    key: str
    label: str

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class _Probe:
    method: str
    path: str
    missing_path: str  # the same call with ids that do not exist
    body: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_web(self) -> bool:
        return not self.path.startswith("/api/")

    async def call(
        self, client: httpx.AsyncClient, sessions: _Sessions, caller: _Caller, *, missing: bool = False
    ) -> httpx.Response:
        path = self.missing_path if missing else self.path
        if self.is_web:
            session = await sessions.of(caller)
            headers = {"x-csrftoken": session.cookies.get("csrftoken", "")}
            return await session.request(self.method, path, headers=headers, data={})
        headers = await caller.tenant.headers(caller.key)
        return await client.request(self.method, path, headers=headers, json=self.body)


class _Sessions:
    """Signed-in web clients, one per caller, for the pages outside /api/."""

    def __init__(self, app) -> None:
        self.app = app
        self.clients: dict[_Caller, httpx.AsyncClient] = {}

    async def __aenter__(self) -> _Sessions:
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients.values()))

    async def of(self, caller: _Caller) -> httpx.AsyncClient:
        if caller not in self.clients:
            session = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")
            page = await session.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            signed_in = await session.post("/login", data={
                "group_code": caller.tenant.code, "username": caller.tenant.usernames[caller.key], "password": PASSWORD, "next": "/",
                "_csrf_token": token,
            })
            assert signed_in.status_code == 303, signed_in.text
            self.clients[caller] = session
        return self.clients[caller]


def _unmapped_parameters(app) -> list[str]:
    return sorted(
        f"{name} (in {route.path})"
        for route in _routes_with_ids(app)
        for name in route.path_parameters
        if name not in PATH_IDS and name not in OTHER_PARAMS
    )


def _routes_with_ids(app) -> list[HTTPRoute]:
    return [
        route for route in app.routes
        if isinstance(route, HTTPRoute) and any(name.endswith("_id") for name in route.path_parameters)
    ]


def _probes(app, params: dict[str, list[str]]) -> list[_Probe]:
    missing = {name: [MISSING_INT if values[0].isdigit() else MISSING_STR] if name in PATH_IDS else values
               for name, values in params.items()}
    probes = []
    for route in _routes_with_ids(app):
        for handler in route.route_handlers:
            for method in sorted(set(handler.http_methods) - SKIPPED_METHODS):
                body = _example_body(handler)
                for path, missing_path in zip(_paths(route, params), _paths(route, missing)):
                    probes.append(_Probe(method, path, missing_path, body))
    return probes


def _paths(route: HTTPRoute, params: dict[str, list[str]]) -> list[str]:
    """The route's path once per combination of parameter values."""
    paths = [route.path_format]
    for name in route.path_parameters:
        paths = [path.replace(f"{{{name}}}", value) for path in paths for value in params[name]]
    return paths


def _example_body(handler) -> Any:
    """The smallest body the handler's msgspec type accepts (None without a body)."""
    data_type = typing.get_type_hints(handler.fn, include_extras=True).get("data")
    if data_type is None:
        return None
    schema = msgspec.json.schema(data_type)
    return _example(schema, schema.get("$defs", {}))


def _example(schema: dict, defs: dict) -> Any:
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _example(options[0], defs) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = set(schema.get("required", []))
        return {k: _example(v, defs) for k, v in schema.get("properties", {}).items() if k in required}
    if kind == "array":
        return [_example(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    if kind == "string":
        return {
            "date-time": clock.now().isoformat(),
            "date": (clock.now() - timedelta(days=1)).date().isoformat(),
            "decimal": "1",
        }.get(schema.get("format", ""), "测" * max(schema.get("minLength", 1), 1))
    raise AssertionError(f"cannot make an example of {schema}: give the route a body in the sweep")
