"""Dashboards JSON API: the store table, trends, the items behind a number, metric definitions, exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Response, get, put
from litestar.params import Parameter

from api.auth import requires
from api.dashboards.params import (
    FromQuery,
    OptionalId,
    PeriodKind,
    PeriodQuery,
    Short,
    ToQuery,
    day_or_none,
)
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import StoreIdQuery
from crm import lists
from crm.analytics import dashboard, drill, export
from crm.analytics.access import (
    DASHBOARD_READERS,
    SETTING_EDITORS,
    DashboardSettings,
    get_settings,
    set_settings,
)
from crm.analytics.dashboard import StoreTable, Trend
from crm.analytics.drill import ItemsPage
from crm.analytics.metrics import METRICS
from crm.analytics.periods import months, parse_period, weeks
from crm.lists import Page
from tenants.errors import InvalidInput
from tenants.scope import Scope

TAGS = ["dashboards"]
GUARDS = [requires(*DASHBOARD_READERS)]
SortQuery = Annotated[str, Parameter(query="sort", max_length=60)]
OrderQuery = Annotated[str, Parameter(query="order", max_length=4)]


@dataclass
class MetricInfo:
    key: str
    label_zh: str
    label_en: str
    unit: str
    formula: str
    higher_is_better: bool


async def table_for(actor: Scope, q: PeriodQuery, division: int | None, region: int | None, sort: str,
                    order: str) -> StoreTable:
    if order not in ("", "asc", "desc"):
        raise InvalidInput.one("order", "排序方向须为 asc 或 desc", "order must be asc or desc")
    return await dashboard.store_table(actor=actor, period=await q.resolve(actor), division_id=division,
                                       region_id=region, sort=sort or "store", descending=order == "desc")


@get("/api/v1/dashboards/stores", tags=TAGS, guards=GUARDS)
async def store_table(
    actor: Scope, period: PeriodKind = "month", week: Short = "", month: Short = "", quarter: Short = "",
    year: Short = "", start: FromQuery = "", end: ToQuery = "", division: OptionalId = None,
    region: OptionalId = None, sort: SortQuery = "store", order: OrderQuery = "asc",
) -> StoreTable:
    """One row per store with the group total, average and ranks (week, month, quarter, year or custom from/to,
    in the group's timezone); store roles get their own store against the group."""
    q = PeriodQuery(period, week, month, quarter, year, start, end)
    return await table_for(actor, q, division, region, sort, order)


@get("/api/v1/dashboards/stores/export", tags=TAGS, guards=GUARDS)
async def export_table(
    actor: Scope, format: Annotated[str, Parameter(query="format", max_length=4)] = "xlsx",
    period: PeriodKind = "month", week: Short = "", month: Short = "", quarter: Short = "", year: Short = "",
    start: FromQuery = "", end: ToQuery = "", division: OptionalId = None, region: OptionalId = None,
    sort: SortQuery = "store", order: OrderQuery = "asc",
) -> Response:
    """The store table as XLSX or CSV, the filters in the file name and a header line."""
    q = PeriodQuery(period, week, month, quarter, year, start, end)
    return await export_response(actor, q, division, region, sort, order, format)


async def export_response(actor: Scope, q: PeriodQuery, division: int | None, region: int | None, sort: str,
                          order: str, format: str) -> Response:
    if format not in ("xlsx", "csv"):
        raise InvalidInput.one("format", "导出格式须为 xlsx 或 csv", "format must be xlsx or csv")
    table = await table_for(actor, q, division, region, sort, order)
    name = f"{export.file_stem(table)}.{format}"
    body, media = ((export.to_xlsx(table), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                   if format == "xlsx" else (export.to_csv(table), "text/csv; charset=utf-8"))
    disposition = f"attachment; filename=\"dashboard.{format}\"; filename*=UTF-8''{quote(name)}"
    return Response(content=body, media_type=media, headers={"Content-Disposition": disposition})


@get("/api/v1/dashboards/trend", tags=TAGS, guards=GUARDS)
async def trend(
    actor: Scope, metric: Annotated[str, Parameter(query="metric", max_length=60)],
    level: Annotated[str, Parameter(query="scope", max_length=10)] = "group", id: OptionalId = None,
    by: Annotated[str, Parameter(query="by", max_length=6)] = "month", start: FromQuery = "", end: ToQuery = "",
) -> Trend:
    """One metric by week or month for a store, a brand division or the group (default: the last 12 months
    or 13 weeks up to today)."""
    first, last = await trend_range(actor, by, start, end)
    return await dashboard.trend(actor=actor, metric=metric, scope=level, scope_id=id, by=by, start=first,
                                 end=last)


async def trend_range(actor: Scope, by: str, start: str, end: str) -> tuple[date, date]:
    """[first, last) of a trend: the days asked for, or the last 12 months / 13 weeks up to today."""
    first, last = day_or_none("from", start), day_or_none("to", end)
    today = await dashboard.today_for(actor)
    last = (last or today) + timedelta(days=1)
    if first is None:
        first = (months(last - timedelta(days=330), last)[0].start if by == "month"
                 else weeks(last - timedelta(days=7 * 12), last)[0].start)
    parse_period("custom", today=today, start=first, end=last - timedelta(days=1))  # the same bounds as a period
    return first, last


@get("/api/v1/dashboards/items", tags=TAGS, guards=GUARDS)
async def items(
    actor: Scope, metric: Annotated[str, Parameter(query="metric", max_length=60)], store_id: StoreIdQuery,
    period: PeriodKind = "month", week: Short = "", month: Short = "", quarter: Short = "", year: Short = "",
    start: FromQuery = "", end: ToQuery = "", sort: SortParam = "", page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> ItemsPage:
    """The complaints, callbacks or visits one store's figure was counted from, one page with the total and the
    figure's definition; `counted` is how many count in a rate's numerator, over every page. `sort`: `at`
    (default), `no`, `kind`, `title`, `state`, `counted`; `-key` for descending."""
    want = drill.ITEM_LIST.parse(sort=sort, page=page, page_size=page_size)
    q = PeriodQuery(period, week, month, quarter, year, start, end)
    return await drill.items_page(actor=actor, metric=metric, store_id=store_id, period=await q.resolve(actor),
                                  want=want)


@get("/api/v1/dashboards/metrics", tags=TAGS, guards=GUARDS, sync_to_thread=False)
def metrics() -> Page[MetricInfo]:
    """Every figure's definition: label, unit and formula; the fixed set on one page, in the dashboard's column
    order (`sort` is `column`)."""
    return lists.whole([MetricInfo(m.key, m.label_zh, m.label_en, str(m.unit), m.formula, m.higher_is_better)
                        for m in (*METRICS.values(), dashboard.OVERDUE_NOW)], sort="column")


class SettingsChange(msgspec.Struct, forbid_unknown_fields=True):
    store_names: Annotated[str, msgspec.Meta(max_length=20)]  # "hidden" or "shown"


@get("/api/v1/dashboards/settings", tags=TAGS, guards=[requires(*SETTING_EDITORS)])
async def read_settings(actor: Scope) -> DashboardSettings:
    """The group's dashboard settings: whether store GMs and customer-relations managers see other stores'
    names (`hidden`, the default, or `shown`)."""
    return await get_settings(actor=actor)


@put("/api/v1/dashboards/settings", tags=TAGS, guards=[requires(*SETTING_EDITORS)])
async def write_settings(actor: Scope, data: SettingsChange) -> DashboardSettings:
    """Change the group's dashboard settings (group admin)."""
    return await set_settings(actor=actor, store_names=data.store_names)


ROUTES = [store_table, export_table, trend, items, metrics, read_settings, write_settings]
