"""The dashboard pages: `/dashboard` (HQ's store comparison, or a store's own figures against the group),
the items behind a number, and the exports for the browser (session sign-in)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.dashboards.params import FromQuery, PeriodKind, PeriodQuery, Short, ToQuery
from api.dashboards.routes import (
    OrderQuery,
    SortQuery,
    export_response,
    table_for,
    trend_range,
)
from api.i18n import language_of
from api.lists import ListView
from api.params import MAX_ID
from crm.analytics import dashboard, drill
from crm.analytics.access import (
    DASHBOARD_READERS,
    SETTING_EDITORS,
    View,
    get_settings,
    set_settings,
)
from crm.analytics.charts import trend_svg
from crm.analytics.metrics import CHANNEL_COLUMNS, METRICS, TABLE_COLUMNS, display
from crm.analytics.periods import KINDS
from crm.callbacks.service import STATES as CALLBACK_STATES
from crm.complaints.workflow import STATE_TITLES as COMPLAINT_STATES
from tenants.errors import InvalidInput
from tenants.scope import Scope

GUARDS = [requires(*DASHBOARD_READERS)]
# The state labels of the items behind a figure, by the item's kind.
ITEM_STATES = {"complaint": COMPLAINT_STATES, "callback": CALLBACK_STATES}

PERIOD_TITLES = {"week": ("周", "Week"), "month": ("月", "Month"), "quarter": ("季度", "Quarter"),
                 "year": ("年", "Year"), "custom": ("自定义", "Custom")}
ChartQuery = Annotated[str, Parameter(query="chart", max_length=60)]
# A filter <select> sends "" for "all": the pages take ids as text.
DivisionField = Annotated[str, Parameter(query="division", max_length=10)]
RegionField = Annotated[str, Parameter(query="region", max_length=10)]


def form_id(field: str, value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise InvalidInput.one(field, "编号无效", "Invalid id")
    return int(value)


@get("/dashboard", guards=GUARDS, include_in_schema=False)
async def dashboard_page(
    request: Request, actor: Scope, period: PeriodKind = "month", week: Short = "", month: Short = "",
    quarter: Short = "", year: Short = "", start: FromQuery = "", end: ToQuery = "", division_field: DivisionField = "",
    region_field: RegionField = "", sort: SortQuery = "store", order: OrderQuery = "asc", chart: ChartQuery = "",
    channels: Short = "",
) -> Template:
    q = PeriodQuery(period, week, month, quarter, year, start, end)
    division, region = form_id("division", division_field), form_id("region", region_field)
    table = await table_for(actor, q, division, region, sort, order)
    chart_metric = chart if chart in METRICS else "complaints"
    first, last = await trend_range(actor, "month", "", "")
    store_view = table.view == View.STORE
    trends = [await dashboard.trend(actor=actor, metric=chart_metric, scope="group", scope_id=None, by="month",
                                    start=first, end=last)]
    if store_view:
        trends.insert(0, await dashboard.trend(actor=actor, metric=chart_metric, scope="store",
                                               scope_id=actor.home_store_id, by="month", start=first, end=last))
    elif division is not None:
        trends.insert(0, await dashboard.trend(actor=actor, metric=chart_metric, scope="division",
                                               scope_id=division, by="month", start=first, end=last))
    lang = language_of(request)
    filters = {**q.query(), **({"division": str(division)} if division else {}),
               **({"region": str(region)} if region else {})}
    shown = [c for c in table.columns if c.key in (*TABLE_COLUMNS, dashboard.LIVE_COLUMN)
             or (channels == "1" and c.key in CHANNEL_COLUMNS)]
    return Template("dashboards/page.html", context={
        "table": table, "columns": shown, "can_configure": actor.has_role(*SETTING_EDITORS), "last_day": table.end - timedelta(days=1), "q": q, "filters": filters, "kinds": KINDS, "period_titles": PERIOD_TITLES,
        "display": display, "store_view": store_view, "charts": [trend_svg(t, lang=lang) for t in trends],
        "chart_metric": chart_metric, "metrics": METRICS, "channels": channels == "1",
        "sort_link": lambda key: "/dashboard?" + urlencode({**filters, "sort": key, "order": "desc" if (
            table.sort == key and not table.descending) else "asc", **({"channels": "1"} if channels == "1" else {})}),
        "drill_link": lambda key, store_id: _drill_link(key, store_id, q),
        "export_link": lambda fmt: "/dashboard/export?" + urlencode({**filters, "format": fmt, "sort": table.sort,
                                                                      "order": "desc" if table.descending else "asc"}),
    })


@get("/dashboard/items", guards=GUARDS, include_in_schema=False)
async def items_page(
    actor: Scope, metric: Annotated[str, Parameter(query="metric", max_length=60)],
    store: Annotated[int, Parameter(query="store", ge=1, le=MAX_ID)], period: PeriodKind = "month",
    week: Short = "", month: Short = "", quarter: Short = "", year: Short = "", start: FromQuery = "",
    end: ToQuery = "", sort: str = "", page: str = "", page_size: str = "",
) -> Template | Redirect:
    if metric == dashboard.LIVE_COLUMN:  # live: the complaint list's own "overdue" filter
        actor.require_store(store)
        return Redirect(path="/complaints?" + urlencode({"store": store, "overdue": "1", "open": "1"}))
    q = PeriodQuery(period, week, month, quarter, year, start, end)
    want = drill.ITEM_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await drill.items_page(actor=actor, metric=metric, store_id=store, period=await q.resolve(actor),
                                   want=want)
    view = ListView("/dashboard/items", drill.ITEM_LIST, want, found,
                    filters={"metric": metric, "store": store, **q.query()})
    return Template("dashboards/items.html", context={"found": found, "view": view, "definition": METRICS[metric],
                                                      "states": ITEM_STATES, "back": "/dashboard?" + urlencode(q.query())})


@get("/dashboard/export", guards=GUARDS, include_in_schema=False)
async def export_page(
    actor: Scope, format: Annotated[str, Parameter(query="format", max_length=4)] = "xlsx",
    period: PeriodKind = "month", week: Short = "", month: Short = "", quarter: Short = "", year: Short = "",
    start: FromQuery = "", end: ToQuery = "", division_field: DivisionField = "", region_field: RegionField = "",
    sort: SortQuery = "store", order: OrderQuery = "asc",
) -> Response:
    q = PeriodQuery(period, week, month, quarter, year, start, end)
    return await export_response(actor, q, form_id("division", division_field), form_id("region", region_field),
                                 sort, order, format)


@get("/dashboard/settings", guards=[requires(*SETTING_EDITORS)], include_in_schema=False)
async def settings_page(actor: Scope, saved: bool = False) -> Template:
    return _settings_template((await get_settings(actor=actor)).store_names, saved=saved)


@post("/dashboard/settings", guards=[requires(*SETTING_EDITORS)], include_in_schema=False)
async def settings_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    chosen = str((await request.form()).get("store_names", ""))
    try:
        await set_settings(actor=actor, store_names=chosen)
    except InvalidInput as problem:
        return _settings_template(chosen, problems=problem.problems, status_code=400)
    return Redirect(path="/dashboard/settings?saved=1", status_code=HTTP_303_SEE_OTHER)


def _settings_template(chosen: str, *, saved: bool = False, problems: list | None = None,
                       status_code: int = 200) -> Template:
    return Template("dashboards/settings.html", status_code=status_code, context={
        "chosen": chosen, "saved": saved, "problems": problems or []})


def _drill_link(key: str, store_id: int, q: PeriodQuery) -> str:
    metric = METRICS.get(key)
    if key != dashboard.LIVE_COLUMN and metric is None:
        return ""
    if metric is not None and metric.subject == "satisfaction":  # the scores and audits behind it
        return f"/satisfaction/stores/{store_id}"
    return "/dashboard/items?" + urlencode({"metric": key, "store": store_id, **q.query()})


ROUTES = [dashboard_page, items_page, export_page, settings_page, settings_submit]
