"""工作台 (my work): what the caller has to do next and how their team is doing this month.

Gathered from each area's own services, which apply the caller's scope and roles: waiting complaints
(crm.complaints.queries), phone callbacks (crm.callbacks.service), major-complaint reports
(crm.major.service), customer data corrections to decide or confirm (crm.customers.corrections), and the
month's figures from the dashboard rollups (crm.analytics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from crm import clock
from crm.analytics.access import DASHBOARD_READERS, View, view_for
from crm.analytics.dashboard import OVERDUE_NOW, store_sums, today_for
from crm.analytics.metrics import METRICS, Metric, merge
from crm.callbacks.service import CALLBACK_WORKERS, work_queue
from crm.complaints.queries import waiting_for_me
from crm.complaints.workflow import ACTIONS, READERS
from crm.customers import corrections
from crm.lists import MAX_PAGE_SIZE
from crm.major.rules import ReportStatus
from crm.major.service import BOARD_LIST, REPORTERS, board
from tenants.scope import Scope, timezone_of
from tenants.tables import Store

# The month's figures on the home page: a few the whole team answers for (the dashboard has the rest).
TEAM_FIGURES = ("complaints", "accept_on_time_rate", "handle_on_time_rate", "callback_rate", "satisfaction_rate")


@dataclass
class WorkItem:
    kind: str  # complaint | callback | major_report | correction
    title: str  # who or what: the customer, the store
    what_zh: str  # the step waiting: 门店受理, 回访, 提交重大投诉报告…
    what_en: str
    href: str
    due_at: datetime | None
    store_name: str = ""


@dataclass
class Figure:
    metric: Metric
    value: float | None


@dataclass
class MyWork:
    overdue: list[WorkItem] = field(default_factory=list)
    today: list[WorkItem] = field(default_factory=list)
    waiting: list[WorkItem] = field(default_factory=list)  # due later, or without a deadline
    figures: list[Figure] = field(default_factory=list)
    figures_view: str = ""  # "" (no figures) | store | group
    month: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.waiting)


async def my_work(*, actor: Scope) -> MyWork:
    """The caller's home page: overdue, due today, waiting; the team's month."""
    items = await _complaints(actor) + await _callbacks(actor) + await _major_reports(actor) + await _corrections(actor)
    work = MyWork()
    if actor.group_id is None:
        return work
    now = clock.now()
    zone = await timezone_of(group=actor.group_id)
    today = now.astimezone(zone).date()
    for item in sorted(items, key=lambda i: (i.due_at is None, i.due_at or now)):
        if item.due_at is not None and item.due_at < now:
            work.overdue.append(item)
        elif item.due_at is not None and item.due_at.astimezone(zone).date() == today:
            work.today.append(item)
        else:
            work.waiting.append(item)
    await _figures(actor, work)
    return work


async def _complaints(actor: Scope) -> list[WorkItem]:
    if actor.group_id is None or not actor.has_role(*READERS):
        return []
    items = []
    for waiting in await waiting_for_me(actor=actor):
        c, step = waiting.summary, ACTIONS[waiting.next_actions[0]]
        items.append(WorkItem("complaint", c.complainant_name, step.label_zh, step.label_en,
                              f"/complaints/{c.id}", c.due_at, c.store_name))
    return items


async def _callbacks(actor: Scope) -> list[WorkItem]:
    if actor.group_id is None or not actor.has_role(*CALLBACK_WORKERS):
        return []
    queue = await work_queue(actor=actor)
    seen: set[int] = set()
    items = []
    for call in queue.mine + queue.overdue + queue.due:
        if call.id in seen:
            continue
        seen.add(call.id)
        items.append(WorkItem("callback", call.customer, call.kind_label, call.kind_label,
                              f"/callbacks/{call.id}", call.deadline_at))
    return items


async def _major_reports(actor: Scope) -> list[WorkItem]:
    """The 24-hour early-warning reports the caller's store still has to file."""
    if actor.group_id is None or not actor.has_role(*REPORTERS):
        return []
    return [
        WorkItem("major_report", m.customer_name, "提交重大投诉报告", "File the major-complaint report",
                 f"/major/{m.id}", m.report_due_at, m.store_name)
        for m in (await board(actor=actor, want=BOARD_LIST.parse(page_size=MAX_PAGE_SIZE))).items
        if m.report_status == ReportStatus.MISSING
    ]


async def _corrections(actor: Scope) -> list[WorkItem]:
    """修正表 waiting for the caller: to apply or reject within 24 hours (department managers, the GM), or, once
    decided, to confirm (customer relations). Who may is `corrections.ACTIONS`, as on the corrections page."""
    deciders, _ = corrections.ACTIONS["apply"]
    confirmers, _ = corrections.ACTIONS["confirm"]
    items = []
    for state, roles, verb in (("open", deciders, ("修正客户资料", "Correct customer data")),
                               ("unconfirmed", confirmers, ("确认资料修正", "Confirm the data correction"))):
        if actor.group_id is None or not actor.has_role(*roles):
            continue
        filters = corrections.CorrectionFilter(state=state)
        want = corrections.CORRECTION_LIST.parse(sort=filters.default_sort, page_size=MAX_PAGE_SIZE)
        for c in (await corrections.list_corrections(actor=actor, filters=filters, want=want)).items:
            if not c.actions:
                continue
            field = (c.field_label_zh, c.field_label_en)
            items.append(WorkItem(
                "correction", c.customer_name, f"{verb[0]}：{field[0]}", f"{verb[1]}: {field[1]}",
                f"{corrections.LINK}?state={state}#correction-{c.id}", c.due_at if state == "open" else None,
                (await _store_names(actor)).get(c.store_id, ""),
            ))
    return items


async def _store_names(actor: Scope) -> dict[int, str]:
    rows = await Store.select(Store.id, Store.name).where(Store.id.is_in(sorted(actor.store_ids) or [-1]))
    return {r["id"]: r["name"] for r in rows}


async def _figures(actor: Scope, work: MyWork) -> None:
    """This month so far: the caller's store (store managers) or the stores they oversee (HQ roles)."""
    if not actor.has_role(*DASHBOARD_READERS):
        return
    view = view_for(actor)
    store_ids = sorted(actor.store_ids) if view == View.GROUP else [actor.home_store_id]
    today = await today_for(actor)
    start = today.replace(day=1)
    sums = merge((await store_sums(actor, store_ids, start, today.fromordinal(today.toordinal() + 1))).values())
    work.figures = [Figure(METRICS[key], METRICS[key].value(sums)) for key in TEAM_FIGURES]
    work.figures.append(Figure(OVERDUE_NOW, OVERDUE_NOW.value(sums)))
    work.figures_view = str(view)
    work.month = start
