"""Report requests: who may ask for which report, the queue → rendering → ready/failed life, the files.

A report is store data: a store's report is seen through the caller's scope like the store's complaints
(404 outside it); the group comparison is for HQ roles only (`GROUP_REPORT_ROLES`). The worker renders
under a system scope built from the report row's own group and store, never unscoped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from crm import clock, lists
from crm.analytics.access import DASHBOARD_READERS
from crm.db import UNIQUE_VIOLATIONS, transaction
from crm.queue import enqueue_after_commit
from crm.reports import render
from crm.reports.figures import KINDS, Kind, month_period
from crm.notify.service import Attachment, notify_users
from crm.reports.tables import ReportRequest, ReportSubscription
from tenants.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope, scope_for_user, timezone_of
from tenants.tables import DealerGroup, Store, User, UserRole

log = structlog.get_logger()

REPORT_READERS = DASHBOARD_READERS  # store reports: the store's GM and CR manager, and the group's managers
GROUP_REPORT_ROLES = frozenset({Role.GROUP_ADMIN, Role.HQ_VIEWER})
SUBSCRIPTION_MANAGERS = frozenset({Role.GROUP_ADMIN})  # choose the group's recipients, not only themselves
STATUS_TITLES = {"queued": "排队中", "rendering": "生成中", "ready": "已生成", "failed": "生成失败"}
RENDER_JOB = "render_report"
MAX_TRIES = 3


@dataclass
class ReportInfo:
    id: int
    kind: str
    title: str
    store_id: int | None
    store_name: str
    month: str
    status: str
    status_title: str
    reason: str
    attempts: int
    pages: int
    requested_at: datetime
    rendered_at: datetime | None


def may_request(actor: Scope, kind: Kind) -> bool:
    """The one rule the API, the page and the service read: which kinds this caller may ask for."""
    return actor.has_role(*(GROUP_REPORT_ROLES if kind.for_group else REPORT_READERS))


async def request_report(*, actor: Scope, kind: str, month: str, store_id: int | None = None) -> int:
    """Queue a report (again, if it exists and is not being made); returns its id."""
    definition = _kind(kind)
    if not month:
        raise InvalidInput.one("month", "须指定月份，如 2026-11", "month is required, e.g. 2026-11")
    if not may_request(actor, definition):
        raise Forbidden("无权申请此报表", "Your role may not request this report")
    period = month_period(month)
    if definition.for_group:
        if store_id is not None:
            raise InvalidInput.one("store_id", "集团报表不指定门店", "the group report takes no store")
    else:
        if store_id is None:
            raise InvalidInput.one("store_id", "须指定门店", "store_id is required")
        actor.require_store(store_id)
    async with transaction():
        report_id, fresh = await _create(actor.group_id or -1, store_id, definition.key, period.label, actor.user_id)
        if not fresh:
            report = await _get(actor, report_id)
            if report.status in ("queued", "rendering"):
                return report_id
            await actor.update(ReportRequest, {
                ReportRequest.status: "queued", ReportRequest.reason: "", ReportRequest.attempts: 0,
                ReportRequest.requested_by: actor.user_id, ReportRequest.requested_at: clock.now(),
            }, group_rows=True).where(ReportRequest.id == report_id)
        await _enqueue(report_id)
    return report_id


# The group's reports (no store) come before the stores' in `store` order on either engine (PostgreSQL would put
# a NULL store name last, SQLite first).
_GROUP_REPORT_FIRST = '"report_request"."store" IS NOT NULL'

REPORT_LIST = lists.ListSpec(
    name="reports",
    sorts={"month": (ReportRequest.month, ReportRequest.requested_at), "requested": (ReportRequest.requested_at,),
           "kind": (ReportRequest.kind,), "store": (_GROUP_REPORT_FIRST, ReportRequest.store.name), "status": (ReportRequest.status,)},
    default_sort="-month",
    tiebreak=ReportRequest.id,
)


async def list_reports(*, actor: Scope) -> list[ReportInfo]:
    """The caller's reports, all of them, newest month first (the reports page)."""
    return (await report_page(actor=actor, want=None)).items


async def report_page(*, actor: Scope, want: lists.ListQuery | None) -> lists.Page[ReportInfo]:
    """The caller's reports: their stores' reports, and the group's for HQ roles; a page with the total (`want`),
    or all of them newest month first (None)."""
    _require_reader(actor)
    mine = [] if actor.has_role(*GROUP_REPORT_ROLES) else [ReportRequest.store.is_not_null()]
    return await lists.fetch_page(REPORT_LIST, want, rows=actor.select(ReportRequest, *_COLUMNS, group_rows=True
                                                                       ).where(*mine),
                                  count=actor.count(ReportRequest, group_rows=True).where(*mine), item=_info)


async def report(*, actor: Scope, report_id: int) -> ReportInfo:
    return _info(await _get_row(actor, report_id))


async def report_file(*, actor: Scope, report_id: int, format: str) -> tuple[Path, str]:
    """The ready file of a report and its download name; 409 while it is not ready."""
    if format not in ("pdf", "xlsx"):
        raise InvalidInput.one("format", "格式须为 pdf 或 xlsx", "format must be pdf or xlsx")
    row = await _get_row(actor, report_id)
    digest = row["pdf_hash"] if format == "pdf" else row["xlsx_hash"]
    if row["status"] != "ready" or not digest:
        raise Conflict("报表尚未生成", "The report is not ready", {"report_status": row["status"]})
    path = render.file_path(digest, format)
    if not path.exists():
        raise Conflict("报表文件缺失，请重新生成", "The report's file is missing; request it again")
    name = f"{KINDS[row['kind']].title}_{row['store_name'] or '集团'}_{row['month']}.{format}"
    return path, name


async def subscribe(*, actor: Scope, kind: str, store_id: int | None = None, user_id: int | None = None) -> None:
    """`user_id` (the caller by default) gets this report by e-mail (and in the app) whenever it is ready; asking
    twice is harmless. The group admin may subscribe the group's people — each only to what they may read."""
    recipient = await _recipient(actor, user_id)
    definition = _kind(kind)
    if not may_request(recipient, definition):
        if recipient is actor:
            raise Forbidden("无权订阅此报表", "Your role may not subscribe to this report")
        raise InvalidInput.one("user_id", "该用户无权查看此报表", "This person may not read this report")
    if definition.for_group:
        store_id = None
    elif store_id is None:
        raise InvalidInput.one("store_id", "须指定门店", "store_id is required")
    else:
        actor.require_store(store_id)
        if not recipient.can_see_store(store_id):
            raise InvalidInput.one("user_id", "该用户无权查看此门店的报表", "This person may not read this store's reports")
    key = _subscription_key(recipient.user_id, kind, store_id)
    async with transaction():
        if not await actor.exists(ReportSubscription, group_rows=True).where(ReportSubscription.subscription_key == key):
            await ReportSubscription(group=actor.group_id, store=store_id, user=recipient.user_id, kind=kind,
                                     subscription_key=key, created_at=clock.now()).save()


async def unsubscribe(*, actor: Scope, kind: str, store_id: int | None = None, user_id: int | None = None) -> None:
    recipient = await _recipient(actor, user_id)
    await actor.group_wide().delete(ReportSubscription, group_rows=True).where(
        ReportSubscription.subscription_key == _subscription_key(recipient.user_id, kind, store_id))


async def subscriptions(*, actor: Scope) -> list[dict]:
    """The caller's own subscriptions: the kind and the store (none for the group's report)."""
    return await actor.group_wide().select(
        ReportSubscription, ReportSubscription.kind, ReportSubscription.store, group_rows=True,
    ).where(ReportSubscription.user == actor.user_id).order_by(ReportSubscription.kind).order_by(
        ReportSubscription.store)


@dataclass
class SubscriptionInfo:
    user_id: int
    user_name: str
    kind: str
    title: str
    store_id: int | None
    store_name: str


async def subscription_list(*, actor: Scope) -> list[SubscriptionInfo]:
    """The settings page's list: the caller's subscriptions, and for the group admin every one of the group."""
    query = actor.group_wide().select(
        ReportSubscription, ReportSubscription.user, ReportSubscription.kind, ReportSubscription.store,
        ReportSubscription.store.name.as_alias("store_name"), group_rows=True)
    if not actor.has_role(*SUBSCRIPTION_MANAGERS):
        query = query.where(ReportSubscription.user == actor.user_id)
    rows = await query.order_by(ReportSubscription.user).order_by(ReportSubscription.kind)
    names = {u["id"]: u["display_name"] for u in await actor.group_wide().select(
        User, User.id, User.display_name, group_rows=True).where(User.id.is_in([r["user"] for r in rows] or [-1]))}
    return [SubscriptionInfo(user_id=r["user"], user_name=names.get(r["user"], ""), kind=r["kind"],
                             title=KINDS[r["kind"]].title if r["kind"] in KINDS else r["kind"], store_id=r["store"],
                             store_name=r["store_name"] or "") for r in rows]


async def possible_recipients(*, actor: Scope) -> list[dict]:
    """Whom the caller may subscribe: themselves, or (group admin) the group's active people who read reports."""
    if not actor.has_role(*SUBSCRIPTION_MANAGERS):
        return [{"id": actor.user_id, "display_name": actor.display_name}]
    users = await actor.group_wide().select(User, User.id, User.display_name, group_rows=True).where(
        User.active.eq(True)).order_by(User.display_name)
    readers = REPORT_READERS | GROUP_REPORT_ROLES
    holders = {r["user"] for r in await UserRole.select(UserRole.user).where(
        UserRole.user.is_in([u["id"] for u in users] or [-1]), UserRole.role.is_in(sorted(readers)))}
    return [u for u in users if u["id"] in holders]


# ---------------------------------------------------------------- the worker's side


async def render_report(report_id: int, *, attempt: int) -> dict:
    """Make a report's files (the worker's job). Unchanged figures reuse the files made last time."""
    row = await ReportRequest.select().where(ReportRequest.id == report_id).first()
    if row is None or row["status"] not in ("queued", "rendering"):
        return {"skipped": 1}
    await ReportRequest.update({ReportRequest.status: "rendering", ReportRequest.attempts: attempt}).where(
        ReportRequest.id == report_id)
    kind = KINDS[row["kind"]]
    actor = await system_scope(row["group"], row["store"])
    data = await kind.gather(actor, row["store"], month_period(row["month"]))
    data_hash = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    reused = (data_hash == row["data_hash"] and row["pdf_hash"] and render.file_path(row["pdf_hash"], "pdf").exists()
              and render.file_path(row["xlsx_hash"], "xlsx").exists())
    values = {ReportRequest.status: "ready", ReportRequest.reason: "", ReportRequest.data_hash: data_hash}
    if not reused:
        now = clock.now().astimezone(await timezone_of(group=row["group"]))
        # The child is handed the HTML first; then the XLSX is made in a thread while the child lays out the PDF
        # (a thread started earlier would hold the GIL the hand-over needs): the report costs its PDF's time.
        rendering = await render.start_pdf(render.html_for(kind.template, data, title=kind.title, generated_at=now))
        xlsx, (pdf, pages) = await asyncio.gather(
            asyncio.to_thread(render.xlsx_for, data, title=kind.title, generated_at=now), rendering)
        pdf_hash, xlsx_hash = await asyncio.to_thread(render.store_report_files, pdf, xlsx)
        values.update({ReportRequest.pdf_hash: pdf_hash, ReportRequest.pages: pages, ReportRequest.xlsx_hash: xlsx_hash,
                       ReportRequest.rendered_at: clock.now()})
    async with transaction():
        await ReportRequest.update(values).where(ReportRequest.id == report_id)
        sent = 0 if reused else await _tell_subscribers(row, kind, values[ReportRequest.pdf_hash])
    return {"rendered": 0 if reused else 1, "reused": 1 if reused else 0, "subscribers": sent}


async def render_failed(report_id: int, *, attempt: int, reason: str, final: bool) -> None:
    """Record a failed attempt: queued again for the retry, or failed with the reason after the last."""
    await ReportRequest.update({ReportRequest.status: "failed" if final else "queued",
                                ReportRequest.reason: reason[:2000], ReportRequest.attempts: attempt}).where(
        ReportRequest.id == report_id)


async def plan_monthly_reports() -> dict:
    """The monthly cron: on the 1st from 06:00 in each group's timezone, last month's report of every active
    store and the group's comparison. The unique `period_key` makes it happen once, however many workers run
    it at once or however often."""
    planned = 0
    for group in await DealerGroup.select(DealerGroup.id):
        local = clock.now().astimezone(await timezone_of(group=group["id"]))
        if local.day != 1 or local.hour < 6:
            continue
        month = f"{local.year - (local.month == 1)}-{(local.month - 2) % 12 + 1:02d}"
        stores = await Store.select(Store.id).where(Store.group == group["id"], Store.active.eq(True))
        wanted = [(None, k) for k in KINDS.values() if k.for_group and k.monthly]
        wanted += [(s["id"], k) for s in stores for k in KINDS.values() if not k.for_group and k.monthly]
        for store_id, kind in wanted:
            try:
                async with transaction():
                    report_id, fresh = await _create(group["id"], store_id, kind.key, month, None)
                    if fresh:
                        await _enqueue(report_id)
                        planned += 1
            except Conflict:
                continue  # another worker planned this one at the same moment
    return {"planned": planned}


async def system_scope(group_id: int, store_id: int | None) -> Scope:
    """The scope a report is made under: its store, or (group report) the group's HQ view of every store."""
    if store_id is not None:
        return Scope(user_id=0, group_id=group_id, roles=frozenset({Role.STORE_GM}), store_ids=frozenset({store_id}),
                     home_store_id=store_id, display_name="报表")
    stores = await Store.select(Store.id).where(Store.group == group_id)
    return Scope(user_id=0, group_id=group_id, roles=frozenset({Role.HQ_VIEWER}),
                 store_ids=frozenset(s["id"] for s in stores), display_name="报表")


async def _tell_subscribers(row: dict, kind: Kind, pdf_hash: str) -> int:
    """A new file: its subscribers get a notification, by e-mail as well with the PDF attached (the notification
    table records it once and retries)."""
    query = Scope.system(row["group"], row["store"]).select(
        ReportSubscription, ReportSubscription.user, group_rows=True).where(ReportSubscription.kind == row["kind"])
    query = query.where(ReportSubscription.store.is_null() if row["store"] is None
                        else ReportSubscription.store == row["store"])
    users = [r["user"] for r in await query]
    if not users:
        return 0
    store = await Store.select(Store.name).where(Store.id == (row["store"] or -1)).first()
    where = (store or {}).get("name", "集团")
    return await notify_users(
        group_id=row["group"], store_id=row["store"], user_ids=users, kind="report_ready",
        title_zh=f"{kind.title}（{where}，{row['month']}）已生成", title_en=f"Report ready: {kind.key} {row['month']}",
        body_zh="报表已生成，PDF 见附件，也可通过链接下载。",
        body_en="The report is ready: the PDF is attached, and can be downloaded from the link.",
        link=f"/reports/{row['id']}/download?format=pdf", idempotency_key=f"report:{row['id']}:{row['requested_at']}",
        extra_channels=("email",),
        attachment=Attachment(render.relative_path(pdf_hash, "pdf"), f"{kind.title}_{where}_{row['month']}.pdf"))


# ---------------------------------------------------------------- helpers

_COLUMNS = (ReportRequest.id, ReportRequest.kind, ReportRequest.store, ReportRequest.store.name.as_alias("store_name"),
            ReportRequest.month, ReportRequest.status, ReportRequest.reason, ReportRequest.attempts,
            ReportRequest.pages, ReportRequest.requested_at, ReportRequest.rendered_at, ReportRequest.pdf_hash,
            ReportRequest.xlsx_hash)


async def _recipient(actor: Scope, user_id: int | None) -> Scope:
    """Whose subscription it is: the caller, or — for the group admin — a person of the group (404 elsewhere)."""
    if user_id is None or user_id == actor.user_id:
        return actor
    actor.require_role(*SUBSCRIPTION_MANAGERS)
    known = await actor.group_wide().exists(User, group_rows=True).where(User.id == user_id)
    recipient = await scope_for_user(user_id) if known else None
    if recipient is None:
        raise NotFound("user")
    return recipient


def _subscription_key(user_id: int, kind: str, store_id: int | None) -> str:
    return f"{user_id}:{kind}:{store_id or 'group'}"


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise InvalidInput.one("kind", "报表类型不存在", "Unknown report kind")
    return KINDS[kind]


async def _create(group_id: int, store_id: int | None, kind: str, month: str, user_id: int | None) -> tuple[int, bool]:
    """The report's row, created unless its kind/store/month exists: (id, created now)."""
    key = f"{kind}:{group_id}:{store_id or 'group'}:{month}"
    existing = await Scope.system(group_id, store_id).select(ReportRequest, ReportRequest.id, group_rows=True).where(
        ReportRequest.period_key == key).first()
    if existing:
        return existing["id"], False
    row = ReportRequest(group=group_id, store=store_id, kind=kind, month=month, period_key=key, status="queued",
                        requested_by=user_id, requested_at=clock.now())
    try:
        await row.save()
    except UNIQUE_VIOLATIONS:
        # Another worker or request won the race: the unique key is the report's identity.
        raise Conflict("报表正在生成", "The report is being made by another request") from None
    return row.id, True


async def _enqueue(report_id: int) -> None:
    await enqueue_after_commit(RENDER_JOB, report_id, job_id=f"report:{report_id}:{clock.now().timestamp()}")


def _require_reader(actor: Scope) -> None:
    if not actor.has_role(*REPORT_READERS):
        raise Forbidden("无权查看报表", "Your role may not see reports")


async def _get_row(actor: Scope, report_id: int) -> dict:
    _require_reader(actor)
    row = await actor.filter(ReportRequest.select(*_COLUMNS), ReportRequest).where(
        ReportRequest.id == report_id).first()
    if row is None and actor.has_role(*GROUP_REPORT_ROLES):
        row = await actor.select(ReportRequest, *_COLUMNS, group_rows=True).where(
            ReportRequest.id == report_id, ReportRequest.store.is_null()).first()
    if row is None:
        raise NotFound("report")
    return row


async def _get(actor: Scope, report_id: int) -> ReportInfo:
    return _info(await _get_row(actor, report_id))


def _info(row: dict) -> ReportInfo:
    return ReportInfo(id=row["id"], kind=row["kind"], title=KINDS[row["kind"]].title, store_id=row["store"],
                      store_name=row["store_name"] or "", month=row["month"], status=row["status"],
                      status_title=STATUS_TITLES.get(row["status"], row["status"]), reason=row["reason"],
                      attempts=row["attempts"], pages=row["pages"], requested_at=row["requested_at"],
                      rendered_at=row["rendered_at"])
