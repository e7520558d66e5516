"""The JSON API and the web page agree on who may see a thing, for every role (权限一致).

"Who may" is decided once in `crm/` (a set of roles next to the service, checked by the service);
the route guards and the navigation read that same definition. This test holds them to it from the
outside: `PAIRS` names, for every page of the web UI, the API call that shows the same thing (or,
for a form, does what the form does), and each pair is called as every role of a group, a
brand-division manager of the other division, the users of a second store and the platform admin.
Both answers must be on the same side: refused (401, 403, 404) or not (anything else below 500 —
a 400 or 409 is an answer to what was asked, after the permission check). The objects in the paths
belong to store A, so the other store's users and the other division's manager must be refused by
both alike.

A page route of the app that is neither in `PAIRS` nor in `UNPAIRED` fails the test: give a new page
its API counterpart here. The second test checks that the navigation lists a page exactly for the
roles the page admits.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from litestar.routes import HTTPRoute

from api.web.nav import NAV, nav_for
from crm.analytics.metrics import METRICS
from crm.complaints import attachments
from crm.notify.tables import Notification
from crm.satisfaction import mystery
from tenants.accounts import create_user, issue_token
from tenants.roles import GROUP_ROLES, STORE_ROLES, Role
from tenants.scope import scope_for_user
from tests.support.attachments import SAMPLES, MemoryUpload
from tests.support.builders import PASSWORD, Tenant, complaint, customer_with_car, major_complaint
from tests.support.callbacks import make_due
from tests.support.customers import import_job


@dataclass(frozen=True)
class Api:
    path: str
    method: str = "GET"
    body: dict | None = None


MARK = {"reasons": [{"reason": "other", "note": "权限核对"}]}
INTAKE = {"channel": "hotline_400", "content": "权限核对", "customer_id": "{customer}"}
DEADLINES = {"accept_working_hours": 2, "urgent_accept_working_hours": 1, "handle_working_days": 1, "report_days": 1,
             "feedback_hours": 24, "revisit_days": 3, "appeal_forward_working_days": 1, "appeal_ruling_working_days": 1}
AUTHORITY = {"tiers": [{"approver_role": "store_cr_manager", "max_amount": "1000"}, {"approver_role": "store_gm"}]}
AUDIT = {"store_id": "{store}", "audited_on": "2026-11-21", "results": [{"checkpoint_id": "{checkpoint}", "scored": True}]}

# A page route (as the app routes it) → (the page's URL to call, the API call that shows the same thing).
PAIRS: dict[str, tuple[str, Api]] = {
    "/": ("/", Api("/api/v1/me")),
    "/dashboard": ("/dashboard", Api("/api/v1/dashboards/stores")),
    "/dashboard/items": ("/dashboard/items?metric={metric}&store={store}",
                         Api("/api/v1/dashboards/items?metric={metric}&store_id={store}")),
    "/dashboard/export": ("/dashboard/export", Api("/api/v1/dashboards/stores/export")),
    "/dashboard/settings": ("/dashboard/settings", Api("/api/v1/dashboards/settings")),
    "/customers": ("/customers", Api("/api/v1/customers")),
    "/customers/{customer_id:int}": ("/customers/{customer}", Api("/api/v1/customers/{customer}/record")),
    "/customers/new": ("/customers/new", Api("/api/v1/customers", "POST", {})),
    "/customers/{customer_id:int}/edit": ("/customers/{customer}/edit",
                                          Api("/api/v1/customers/{customer}", "PATCH", {})),
    "/corrections": ("/corrections", Api("/api/v1/customer-corrections")),
    "/complaints": ("/complaints", Api("/api/v1/complaints")),
    "/complaints/export": ("/complaints/export?format=csv", Api("/api/v1/complaints/export?format=csv")),
    "/complaints/{complaint_id:int}": ("/complaints/{complaint}", Api("/api/v1/complaints/{complaint}")),
    # The form to mark a complaint major ↔ marking it (a second marking adds the reason).
    "/complaints/{complaint_id:int}/major": ("/complaints/{complaint}/major",
                                             Api("/api/v1/complaints/{complaint}/major", "POST", MARK)),
    # The intake form and its lookup ↔ taking a complaint; its fragments ↔ the API's intake helpers.
    "/complaint-intake": ("/complaint-intake", Api("/api/v1/complaints", "POST", INTAKE)),
    "/complaint-intake/lookup": ("/complaint-intake/lookup?q=王", Api("/api/v1/complaints", "POST", INTAKE)),
    "/complaint-intake/take": ("/complaint-intake/take?customer_id={customer}",
                               Api("/api/v1/major/repeat-check?customer_id={customer}")),
    "/revisits": ("/revisits", Api("/api/v1/complaints/revisit-queue")),
    "/accountability": ("/accountability?month={month}", Api("/api/v1/complaints/accountability?month={month}")),
    "/callbacks": ("/callbacks", Api("/api/v1/callbacks/queue")),
    "/callbacks/list": ("/callbacks/list", Api("/api/v1/callbacks")),
    "/callbacks/list/export": ("/callbacks/list/export?format=csv", Api("/api/v1/callbacks/export?format=csv")),
    "/callbacks/{callback_id:int}": ("/callbacks/{callback}", Api("/api/v1/callbacks/{callback}")),
    "/callback-stats": ("/callback-stats?store={store}", Api("/api/v1/callbacks/statistics?store_id={store}")),
    "/major": ("/major", Api("/api/v1/major")),
    "/major/events": ("/major/events", Api("/api/v1/major/events")),
    "/major/{major_id:int}": ("/major/{major}", Api("/api/v1/major/{major}")),
    "/major/{major_id:int}/print": ("/major/{major}/print", Api("/api/v1/major/{major}")),
    "/notifications": ("/notifications", Api("/api/v1/notifications")),
    "/notifications/menu": ("/notifications/menu", Api("/api/v1/notifications")),
    "/notifications/{notification_id:int}": ("/notifications/{notification}",
                                             Api("/api/v1/notifications/{notification}/read", "POST")),
    "/events": ("/events", Api("/api/v1/notifications/stream")),
    "/notification-settings": ("/notification-settings", Api("/api/v1/notifications/preferences")),
    "/notification-failures": ("/notification-failures", Api("/api/v1/notifications/failed")),
    "/privacy/access-log": ("/privacy/access-log", Api("/api/v1/personal-data-access")),
    "/reports": ("/reports", Api("/api/v1/reports")),
    "/complaints/{complaint_id:int}/print": ("/complaints/{complaint}/print", Api("/api/v1/complaints/{complaint}")),
    "/complaints/{complaint_id:int}/attachments/{attachment_id:int}": (
        "/complaints/{complaint}/attachments/{attachment}",
        Api("/api/v1/complaints/{complaint}/attachments/{attachment}/content")),
    "/satisfaction": ("/satisfaction", Api("/api/v1/manufacturer-scores")),
    "/satisfaction/export.xlsx": ("/satisfaction/export.xlsx", Api("/api/v1/manufacturer-scores")),
    "/satisfaction/stores/{store_id:int}": ("/satisfaction/stores/{store}", Api("/api/v1/stores/{store}/standing")),
    "/mystery-shopper": ("/mystery-shopper", Api("/api/v1/mystery-shopper/audits")),
    "/mystery-shopper/audits/{audit_id:int}": ("/mystery-shopper/audits/{audit}",
                                               Api("/api/v1/mystery-shopper/audits/{audit}")),
    # The audit form ↔ recording an audit (of another day than the one in the world: a second one is a 409).
    "/mystery-shopper/new": ("/mystery-shopper/new", Api("/api/v1/mystery-shopper/audits", "POST", AUDIT)),
    "/mystery-shopper/checklist": ("/mystery-shopper/checklist",
                                   Api("/api/v1/mystery-shopper/checkpoints?brand_division_id={division}")),
    "/platform": ("/platform", Api("/api/v1/platform/groups")),
    "/audit": ("/audit", Api("/api/v1/audit")),
    "/audit/export": ("/audit/export?format=csv", Api("/api/v1/audit/export?format=csv")),
    "/organisation": ("/organisation", Api("/api/v1/organisation")),
    "/organisation/stores/{store_id:int}": ("/organisation/stores/{store}", Api("/api/v1/stores/{store}")),
    "/people": ("/people", Api("/api/v1/users")),
    "/people/{user_id:int}": ("/people/{staff}", Api("/api/v1/users/{staff}")),
    # Settings screens ↔ the API call that saves the same setting (or reads it, where reading is guarded alike).
    "/settings/calendar": ("/settings/calendar?store={store}", Api("/api/v1/stores/{store}/calendar", "PUT", {})),
    "/settings/complaint-deadlines": ("/settings/complaint-deadlines",
                                      Api("/api/v1/complaints/policy", "PUT", DEADLINES)),
    "/settings/authority": ("/settings/authority", Api("/api/v1/complaints/authority", "PUT", AUTHORITY)),
    "/settings/major-policy": ("/settings/major-policy", Api("/api/v1/major/policy")),
    "/settings/callback-rules": ("/settings/callback-rules?store={store}",
                                 Api("/api/v1/callbacks/rules/delivery_care_2h?store_id={store}", "PUT", {})),
    "/settings/callback-rules/{kind:str}": ("/settings/callback-rules/delivery_care_2h?store={store}",
                                            Api("/api/v1/callbacks/rules/delivery_care_2h?store_id={store}", "PUT", {})),
    "/settings/notification-channels": ("/settings/notification-channels", Api("/api/v1/notifications/channels")),
    "/settings/dms-keys": ("/settings/dms-keys?store={store}", Api("/api/v1/dms/keys?store_id={store}")),
    # The upload form ↔ the import (a JSON body is refused as a bad upload, after the role check).
    "/settings/customer-import": ("/settings/customer-import", Api("/api/v1/customers/import", "POST", {})),
    # Every kind of import's job page (progress, then the report) ↔ the job as JSON.
    "/imports/{job_id:int}": ("/imports/{import}", Api("/api/v1/imports/{import}")),
    "/imports/{job_id:int}/progress": ("/imports/{import}/progress", Api("/api/v1/imports/{import}")),
}
# Pages with nothing to agree on: they show no data and admit everyone.
UNPAIRED = {
    "/login": "the sign-in form (public)",
    "/activate/{token:str}": "the activation form (public; its API is POST /api/v1/auth/activate, tests/accounts)",
    "/account/password": "the password form, for everyone signed in (POST /api/v1/account/password, tests/accounts)",
    "/lang/{code:str}": "switches the UI language",
    "/settings": "the settings menu: links to the screens the caller may open (each paired above); the navigation test "
                 "checks it admits exactly the roles it is listed for",
    "/reports/{report_id:int}/download": "the same file and check as GET /api/v1/reports/{id}/download (tests/reports)",
}
REFUSED = {401, 403, 404}


def page_routes(app) -> set[str]:
    """Every GET route of the web UI (not the JSON API, the OpenAPI schema, static files or the ops endpoints)."""
    return {
        route.path for route in app.routes if isinstance(route, HTTPRoute) and "GET" in route.methods
        and not route.path.startswith(("/api/", "/schema", "/static/", "/health", "/metrics"))
    }


async def test_every_page_has_its_api_counterpart(app):
    pages = page_routes(app)
    assert pages - PAIRS.keys() - UNPAIRED.keys() == set(), "a page without its API pair in PAIRS"
    assert (PAIRS.keys() | UNPAIRED.keys()) - pages == set(), "PAIRS names a page that is not routed"


async def test_api_and_page_agree_for_every_role(app, tenant, browser_session):
    world = await _world(tenant)
    callers = await _callers(tenant, browser_session)
    disagreements = []
    for who, caller in callers.items():
        values = {**world, "store": caller.store}
        for route, (page_url, api) in PAIRS.items():
            page = await _status(app, "GET", _fill(page_url, values), caller.cookie_headers)
            answer = await _status(app, api.method, _fill(api.path, values), caller.api_headers,
                                   _fill_body(api.body, values))
            assert page < 500 and answer < 500, (who, route, page, answer)
            if (page in REFUSED) != (answer in REFUSED):
                disagreements.append(f"{who}: {route} → {page}, {api.method} {api.path} → {answer}")
    assert disagreements == [], "\n".join(disagreements)


async def test_navigation_lists_a_page_exactly_for_the_roles_it_admits(app, tenant, browser_session):
    callers = await _callers(tenant, browser_session)
    world = await _world(tenant)
    wrong = []
    for who, caller in callers.items():
        listed = {item.path for item in nav_for(caller.scope)}
        for item in NAV:
            status = await _status(app, "GET", _fill(item.path, {**world, "store": caller.store}),
                                   caller.cookie_headers)
            assert status < 500, (who, item.path, status)
            if (item.path in listed) != (status not in REFUSED):
                wrong.append(f"{who}: {item.path} listed={item.path in listed}, page → {status}")
    assert wrong == []


# ------------------------------------------------------------------------------------------------


@dataclass
class Caller:
    scope: object
    store: int  # the store whose figures the caller asks for: their own, else store A
    cookie_headers: list[tuple[str, str]]
    api_headers: list[tuple[str, str]]


async def _world(tenant: Tenant) -> dict[str, object]:
    """Store A's objects behind the id pages: a customer, a complaint marked major, a callback, a notification."""
    car = await customer_with_car(tenant)
    complaint_id = await complaint(tenant, car, store="A")
    major_id = await major_complaint(tenant, complaint_id)
    attachment = await attachments.add_attachment(actor=await tenant.scope("store_cr_manager@A"), complaint_id=complaint_id,
                                                  upload=MemoryUpload("车损.png", SAMPLES["png"][1]))
    notification = await Notification.select(Notification.id).where(
        Notification.recipient == tenant.users["store_gm@A"]
    ).order_by(Notification.id, ascending=False).first()
    [checkpoint] = await mystery.set_checkpoints(
        actor=await tenant.scope("group_admin"), brand_division_id=tenant.division_ids[0],
        entries=[mystery.CheckpointEntry("展厅接待", "主动迎接")],
    )
    audit = await mystery.record_audit(actor=await tenant.scope("group_admin"), store_id=tenant.store_a,
                                       audited_on=date(2026, 11, 20), results=[mystery.ResultEntry(checkpoint["id"], True)])
    return {
        "customer": car.customer_id, "complaint": complaint_id, "major": major_id, "audit": audit["id"],
        "attachment": attachment.id,
        "checkpoint": checkpoint["id"], "division": tenant.division_ids[0],
        "callback": await make_due(tenant), "notification": notification["id"],
        "month": "2026-12", "metric": next(iter(METRICS)), "staff": tenant.users["staff@A"],
        "import": await import_job(await tenant.scope("store_cr_manager@A"), tenant.store_a),
    }


async def _callers(tenant: Tenant, browser_session) -> dict[str, Caller]:
    """Every role of the group, store A's and store B's staff, the other division's manager, the platform admin."""
    keys = [str(role) for role in sorted(GROUP_ROLES)] + ["brand_manager@div2"]
    keys += [f"{role}@{store}" for store in "AB" for role in sorted(STORE_ROLES)]
    usernames = {key: tenant.usernames[key] for key in keys}
    user_ids = {key: tenant.users[key] for key in keys}
    admin = f"platform_admin_{tenant.group_id}"
    user_ids["platform_admin"] = await create_user(username=admin, password=PASSWORD, display_name="平台管理员",
                                                   roles=[Role.PLATFORM_ADMIN])
    usernames["platform_admin"] = admin
    own_store = {"@A": tenant.store_a, "@B": tenant.store_b, "v2": tenant.store_c}
    callers = {}
    for key, user_id in user_ids.items():
        session = await browser_session(usernames[key])
        token, _ = await issue_token(user_id, 1)
        callers[key] = Caller(
            scope=await scope_for_user(user_id),
            store=own_store.get(key[-2:], tenant.store_a),
            cookie_headers=[("cookie", "; ".join(f"{k}={v}" for k, v in session.cookies.items()))],
            api_headers=[("authorization", f"Bearer {token}")],
        )
    return callers


def _fill(template: str, values: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


def _fill_body(body, values: dict[str, object]):
    """The body with its "{name}" values replaced by the world's ids, at any depth."""
    if isinstance(body, dict):
        return {k: _fill_body(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill_body(v, values) for v in body]
    return int(_fill(body, values)) if isinstance(body, str) and body.startswith("{") else body


async def _status(app, method: str, url: str, headers: list[tuple[str, str]], body: dict | None = None) -> int:
    """The status the app answers, without waiting for the end of a streamed body (the SSE routes)."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode() if body is not None else b""
    all_headers = [*headers, ("host", "testserver")]
    if body is not None:
        all_headers += [("content-type", "application/json"), ("content-length", str(len(payload)))]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": parts.path, "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
        "root_path": "", "headers": [(k.encode(), v.encode()) for k, v in all_headers],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {},
    }
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until the status is known

    async def send(message):
        if message["type"] == "http.response.start" and not started.done():
            started.set_result(message["status"])

    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return started.result()
