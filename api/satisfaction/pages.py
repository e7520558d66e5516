"""Satisfaction pages: the group's table of all stores (sortable, XLSX export, manufacturer score import),
a store's satisfaction page, and the mystery-shopper pages (神秘客户): audits with score rate and pay
multiplier, entering an audit, importing audits, and a brand's checkpoint list. Rules and roles are
`crm.satisfaction`'s."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar_htmx import ClientRedirect

from api.i18n import language_of
from api.imports.pages import to_job
from crm import clock
from crm.callbacks.surveys import LEVELS
from crm.imports import service as imports
from crm.analytics.charts import lines_svg
from crm.analytics.metrics import METRICS, display
from crm.satisfaction import items, manufacturer, mystery, mystery_import, standing, trends
from crm.satisfaction.group_table import COLUMNS, group_table, to_xlsx
from crm.satisfaction.pay import NO_PAY, PAY_BANDS
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.scope import Scope
from tenants.tables import BrandDivision, Store

_MAX_ID = 2**31 - 1
SHANGHAI = ZoneInfo("Asia/Shanghai")

RANK_BAND_LABELS = {code: (zh, en) for _limit, code, zh, en in standing.RANK_BANDS} | {
    standing.BELOW_TOP50[0]: standing.BELOW_TOP50[1:]}


@get("/satisfaction", include_in_schema=False)
async def group_page(
    actor: Scope, survey: str = "phone", period: str | None = None, sort: str = "store_name", desc: bool = False
) -> Template:
    return await _group_template(actor, survey, period, sort, desc)


@get("/satisfaction/export.xlsx", include_in_schema=False)
async def group_export(
    request: Request[Scope, Any, Any], actor: Scope, survey: str = "phone", period: str | None = None,
    sort: str = "store_name", desc: bool = False,
) -> Response[bytes]:
    survey, period = _survey_period(survey, period)
    table = await group_table(actor=actor, survey=survey, period=period, sort=sort, descending=desc)
    name = f"满意度总表-{survey}-{period or 'latest'}.xlsx"
    return Response(
        content=to_xlsx(table, language_of(request)),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=\"satisfaction.xlsx\"; filename*=UTF-8''{quote(name)}"},
    )


@post("/satisfaction/import", include_in_schema=False,
      request_max_body_size=mystery_import.MAX_FILE_BYTES + 64 * 1024)
async def scores_import_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect | ClientRedirect:
    """Keep the file and start its import job; the browser goes to the job's progress page."""
    try:
        job = await _start_import(request, actor, "manufacturer_scores")
    except InvalidInput as problem:
        return await _group_template(actor, "phone", None, "store_name", False, errors=problem.problems,
                                     status_code=400)
    return to_job(request, job)


@post("/satisfaction/thresholds", include_in_schema=False)
async def thresholds_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    """The group admin's strength and weakness thresholds (the rule and the role check are crm's)."""
    form = await request.form()
    changes = {key: str(form.get(key, "")).strip() for key in items.DEFAULT_THRESHOLDS}
    try:
        bad = [FieldProblem(key, "阈值应为0–100之间的整数", "A threshold is a whole percentage 0–100")
               for key, text in changes.items() if not (text.isdigit() and len(text) <= 3)]
        if bad:
            raise InvalidInput(bad)
        await items.set_thresholds(actor=actor, changes={key: int(text) for key, text in changes.items()})
    except InvalidInput as problem:
        return await _group_template(actor, "phone", None, "store_name", False, errors=problem.problems,
                                     status_code=400)
    return Redirect(path="/satisfaction?ok=thresholds_saved#thresholds", status_code=HTTP_303_SEE_OTHER)


@get("/satisfaction/stores/{store_id:int}", include_in_schema=False)
async def store_page(
    request: Request[Scope, Any, Any], actor: Scope, store_id: int, survey: str = "phone", period: str | None = None,
    month: str | None = None,
) -> Template:
    _check_id(store_id)
    survey, period = _survey_period(survey, period)
    found = await standing.store_standing(actor=actor, store_id=store_id, survey=survey, period=period)
    chosen = manufacturer.period_of("phone", month) if month else None  # the items' month; unreadable: this month
    month_day = (dt.date.fromisoformat(f"{chosen}-01") if chosen and 2000 <= int(chosen[:4]) <= 2099
                 else clock.now().astimezone(SHANGHAI).date())
    trend = await trends.store_trends(actor=actor, store_id=store_id, survey=survey)
    context = {
        "trend": trend, "trend_charts": _trend_charts(trend, language_of(request)), "trend_keys": trends.KEYS,
        "metrics": METRICS, "display": display,
        "standing": found, "survey": survey, "levels": LEVELS, "positions": standing.POSITIONS, "bands": RANK_BAND_LABELS,
        "items": await items.strengths_and_weaknesses(actor=actor, store_id=store_id, month=month_day),
        "audits": await mystery.list_audits(actor=actor, store_id=store_id),
        "store": await Store.select(Store.id, Store.name).where(Store.id == store_id).first(),
    }
    return Template("satisfaction/store.html", context=context)


@get("/mystery-shopper", include_in_schema=False)
async def audits_page(actor: Scope, store_id: int | None = None) -> Template:
    return await _list_template(actor, store_id=store_id)


@get("/mystery-shopper/audits/{audit_id:int}", include_in_schema=False)
async def audit_page(actor: Scope, audit_id: int) -> Template:
    _check_id(audit_id)
    audit = await mystery.get_audit(actor=actor, audit_id=audit_id)
    return Template("satisfaction/audit.html", context={"audit": audit})


@get("/mystery-shopper/new", include_in_schema=False)
async def new_audit_page(actor: Scope, store_id: int | None = None) -> Template:
    mystery.require_recorder(actor)
    return await _new_template(actor, store_id)


@post("/mystery-shopper/new", include_in_schema=False)
async def new_audit_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    mystery.require_recorder(actor)
    form = await request.form()
    store_id = _int(form.get("store_id"))
    try:
        if store_id is None:
            raise InvalidInput.one("store_id", "请选择门店", "Choose a store")
        results = [
            mystery.ResultEntry(int(key[3:]), value == "scored", str(form.get(f"remark_{key[3:]}", "")).strip()[:500])
            for key, value in form.items()
            if key.startswith("cp_") and key[3:].isdigit() and value in ("scored", "lost")
        ]
        try:
            audited_on = dt.date.fromisoformat(str(form.get("audited_on", "")))
        except ValueError:
            raise InvalidInput.one("audited_on", "请填写检查日期", "The audit date is required") from None
        audit = await mystery.record_audit(
            actor=actor, store_id=store_id, audited_on=audited_on, results=results,
            auditor=str(form.get("auditor", "")).strip()[:60],
        )
    except InvalidInput as problem:
        return await _new_template(actor, store_id, errors=problem.problems, status_code=400)
    return Redirect(path=f"/mystery-shopper/audits/{audit['id']}?ok=audit_saved", status_code=HTTP_303_SEE_OTHER)


@post("/mystery-shopper/import", include_in_schema=False, request_max_body_size=mystery_import.MAX_FILE_BYTES + 64 * 1024)
async def import_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect | ClientRedirect:
    """Keep the file and start its import job; the browser goes to the job's progress page."""
    try:
        job = await _start_import(request, actor, "mystery_audits")
    except InvalidInput as problem:
        return await _list_template(actor, errors=problem.problems, status_code=400)
    return to_job(request, job)


@get("/mystery-shopper/checklist", include_in_schema=False)
async def checklist_page(actor: Scope, brand_division_id: int | None = None) -> Template:
    return await _checklist_template(actor, brand_division_id)


@post("/mystery-shopper/checklist", include_in_schema=False)
async def checklist_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = await request.form()
    brand_id = _int(form.get("brand_division_id"))
    entries = []
    for line in str(form.get("lines", "")).splitlines():
        if line.strip():
            section, _, item = line.replace("｜", "|").partition("|")
            entries.append(mystery.CheckpointEntry(section.strip()[:60], item.strip()[:200]))
    try:
        if brand_id is None:
            raise InvalidInput.one("brand_division_id", "请选择品牌", "Choose a brand")
        await mystery.set_checkpoints(actor=actor, brand_division_id=brand_id, entries=entries)
    except InvalidInput as problem:
        return await _checklist_template(actor, brand_id, errors=problem.problems, status_code=400)
    return Redirect(path=f"/mystery-shopper/checklist?brand_division_id={brand_id}&ok=checklist_saved", status_code=HTTP_303_SEE_OTHER)


ROUTES = [audits_page, audit_page, new_audit_page, new_audit_submit, import_submit, checklist_page, checklist_submit,
          group_page, group_export, scores_import_submit, thresholds_submit, store_page]


async def _start_import(request: Request[Scope, Any, Any], actor: Scope, kind: str) -> imports.ImportJobInfo:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput.one("file", "请选择文件", "Choose a file")
    return await imports.start_import(actor=actor, kind=kind, filename=upload.filename, upload=upload.file,
                                      accept_valid_rows=form.get("accept_valid_rows") == "1")


async def _group_template(actor: Scope, survey: str, period: str | None, sort: str, desc: bool, *, errors=None,
                          status_code: int = 200) -> Template:
    if not actor.has_role(*manufacturer.SCORE_READERS):
        raise NotFound("page")
    survey, period = _survey_period(survey, period)
    table = await group_table(actor=actor, survey=survey, period=period, sort=sort, descending=desc)
    context = {"table": table, "columns": COLUMNS, "positions": standing.POSITIONS, "errors": errors,
               "can_import": actor.has_role(*manufacturer.SCORE_IMPORTERS),
               "thresholds": await items.thresholds(actor=actor), "threshold_labels": items.THRESHOLD_LABELS,
               "can_edit_thresholds": actor.has_role(*items.THRESHOLD_EDITORS)}
    return Template("satisfaction/group.html", context=context, status_code=status_code)


def _trend_charts(trend: dict[str, Any], lang: str) -> list[str]:
    """SVG charts of the store's trend: SSI and CSI with the regional and national averages, the mystery rate."""
    labels = [row["period"] for row in trend["rows"]]
    charts = []
    for keys in trends.CHARTS.values():
        names = ["本店" if lang != "en" else "This store", *(METRICS[key].label(lang) for key in keys[1:])]
        series = [(name, [row[key] for row in trend["rows"]]) for name, key in zip(names, keys)]
        charts.append(lines_svg(METRICS[keys[0]].label(lang), labels, series, METRICS[keys[0]].unit))
    return charts


def _survey_period(survey: str, period: str | None) -> tuple[str, str | None]:
    """Unknown survey or period words from the address bar fall back to the phone survey's latest period."""
    survey = survey if survey in manufacturer.SURVEYS else "phone"
    return survey, manufacturer.period_of(survey, period) if period else None


async def _list_template(
    actor: Scope, *, store_id: int | None = None, errors=None, status_code: int = 200
) -> Template:
    store_id = store_id if store_id is not None and actor.can_see_store(store_id) else None
    audits = await mystery.list_audits(actor=actor, store_id=store_id)
    context = {
        "audits": audits, "stores": await _stores(actor), "store_id": store_id, "errors": errors,
        "can_record": actor.has_role(*mystery.AUDIT_RECORDERS), "can_edit": actor.has_role(*mystery.CHECKLIST_EDITORS),
        "bands": [*PAY_BANDS, NO_PAY],
    }
    return Template("satisfaction/mystery.html", context=context, status_code=status_code)


async def _new_template(actor: Scope, store_id: int | None, errors=None, status_code: int = 200) -> Template:
    checkpoints = []
    if store_id is not None:
        try:
            checkpoints = await mystery.checkpoints_of_store(actor=actor, store_id=store_id)
        except NotFound:
            store_id = None
    context = {"stores": await _stores(actor), "store_id": store_id, "checkpoints": checkpoints, "errors": errors,
               "today": clock.now().astimezone(SHANGHAI).date().isoformat()}
    return Template("satisfaction/new_audit.html", context=context, status_code=status_code)


async def _checklist_template(actor: Scope, brand_id: int | None, errors=None, status_code: int = 200) -> Template:
    mystery.require_reader(actor)
    brands = await BrandDivision.select(BrandDivision.id, BrandDivision.name).where(
        BrandDivision.group == (actor.group_id or -1)
    ).order_by(BrandDivision.id)
    if actor.brand_division_id is not None:
        brands = [b for b in brands if b["id"] == actor.brand_division_id]
    if brand_id is None and brands:
        brand_id = brands[0]["id"]
    checkpoints = await mystery.list_checkpoints(actor=actor, brand_division_id=brand_id) if brand_id else []
    context = {"brands": brands, "brand_id": brand_id, "checkpoints": checkpoints, "errors": errors,
               "can_edit": actor.has_role(*mystery.CHECKLIST_EDITORS)}
    return Template("satisfaction/checklist.html", context=context, status_code=status_code)


async def _stores(actor: Scope) -> list[dict]:
    return await Store.select(Store.id, Store.name).where(
        Store.group == (actor.group_id or -1), Store.id.is_in(sorted(actor.store_ids) or [-1])
    ).order_by(Store.id)


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) <= _MAX_ID else None


def _check_id(value: int) -> None:
    if not 0 < value <= _MAX_ID:
        raise NotFound("object")
