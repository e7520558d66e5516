"""The items behind a dashboard number (穿透): the same counting code as the rollups, applied row by row.

For one store and period, the raw rows anchored in the period are counted with `crm.analytics.rollups`'
`*_counts` functions; the rows that count in the metric's `drill` column are listed, and for a rate each
row says whether it also counts in the numerator (`part`). So the list always adds up to the figure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timezone
from operator import attrgetter

import msgspec

from crm import lists
from crm.analytics.access import view_for
from crm.analytics.dashboard import LIVE_COLUMN
from crm.analytics.metrics import METRICS, Metric
from crm.analytics.periods import Period
from crm.analytics.rollups import (
    callback_counts,
    complaint_counts,
    raw_callbacks,
    raw_complaints,
    raw_scores,
    raw_visits,
    score_counts,
    visit_counts,
)
from tenants.errors import InvalidInput
from tenants.scope import Scope, timezone_of

@dataclass
class Item:
    kind: str  # complaint | callback | visit
    id: int
    at: datetime
    title: str
    state: str
    counted: bool  # counts in the rate's numerator (always True for a count)
    link: str


class ItemsPage(lists.Page[Item], kw_only=True):
    """A page of the items behind a figure, with the figure's definition; `counted` is over every page."""

    items: list[Item]
    metric: str
    label_zh: str
    label_en: str
    formula: str
    store_id: int
    period_label: str
    counted: int


# Built in Python (the counting code decides what is listed): the sort keys name functions of an item.
ITEM_LIST = lists.ListSpec(
    name="dashboard_items",
    sorts={"at": (attrgetter("at"),), "no": (attrgetter("id"),), "kind": (attrgetter("kind"),),
           "title": (attrgetter("title"),), "state": (attrgetter("state"),), "counted": (attrgetter("counted"),)},
    default_sort="at",
    tiebreak=attrgetter("id"),
    page_size=100,
)


async def items_page(*, actor: Scope, metric: str, store_id: int, period: Period, want: lists.ListQuery
                     ) -> ItemsPage:
    """One page of the items behind one store's figure, with their total (the page and the API alike)."""
    definition, items = await _behind(actor, metric, store_id, period)
    found = lists.page_in_memory(ITEM_LIST, want, items)
    return ItemsPage(**msgspec.structs.asdict(found), metric=metric, label_zh=definition.label_zh,
                     label_en=definition.label_en, formula=definition.formula, store_id=store_id,
                     period_label=period.label, counted=sum(item.counted for item in items))


async def _behind(actor: Scope, metric: str, store_id: int, period: Period) -> tuple[Metric, list[Item]]:
    """The metric's definition and every item its figure counts, in the order the rows were read."""
    view_for(actor)
    actor.require_store(store_id)
    if metric not in METRICS or metric == LIVE_COLUMN:
        raise InvalidInput.one("metric", "指标不存在", "Unknown metric")
    definition = METRICS[metric]
    if definition.subject == "satisfaction":
        raise InvalidInput.one("metric", "厂家成绩与神秘客户检查见门店满意度页", "See the store's satisfaction page for these figures")
    zone = await timezone_of(group=actor.group_id)
    lo = datetime.combine(period.start, time(0), tzinfo=zone).astimezone(timezone.utc)
    hi = datetime.combine(period.end, time(0), tzinfo=zone).astimezone(timezone.utc)
    column, part = definition.drill, definition.part or definition.drill
    store = Scope.system(actor.group_id, store_id)  # a store of the caller's (require_store above)
    items: list[Item] = []
    if definition.subject == "complaint":
        for row in await raw_complaints(store, lo, hi):
            counts = complaint_counts(row, row["missed"], row["major"])
            if counts[column]:
                items.append(Item("complaint", row["id"], row["received_at"], row["complainant_name"], row["state"],
                                  bool(counts[part]), f"/complaints/{row['id']}"))
    elif definition.subject == "callback":
        rows = await raw_callbacks(store, lo, hi)
        counts_of: dict[int, Counter] = defaultdict(Counter)
        for row in rows:
            counts_of[row["id"]] += callback_counts(row)
        for score in await raw_scores(store, lo, hi):
            counts_of[score["callback"]] += score_counts(score)
        for row in rows:
            counts = counts_of[row["id"]]
            if counts[column]:
                items.append(Item("callback", row["id"], row["due_at"], row["customer.name"] or "", row["state"],
                                  bool(counts[part]), f"/callbacks/{row['id']}"))
    else:
        for row in await raw_visits(store, lo, hi):
            if visit_counts(row)[column]:
                items.append(Item("visit", row["id"], row["left_at"], row["repair_order_no"], "", True, ""))
    return definition, items
