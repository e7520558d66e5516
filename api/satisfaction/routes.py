"""Satisfaction API: mystery shopper (神秘客户) under /api/v1/mystery-shopper — checkpoint lists per brand,
audits, XLSX import — and manufacturer SSI/CSI scores under /api/v1/manufacturer-scores with each store's standing.

Thin: every rule (who may, what is valid, rate and pay multiplier, standing) is in `crm.satisfaction`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from api.errors import import_answer
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import Id, IdParam, OptionalStoreIdQuery, text
from crm import clock, lists
from crm.imports import service as imports
from crm.lists import Page
from crm.satisfaction import items, manufacturer, mystery, mystery_import, standing
from tenants.errors import InvalidInput
from tenants.scope import Scope

TAGS = ["mystery-shopper"]
BASE = "/api/v1/mystery-shopper"


class CheckpointIn(msgspec.Struct, forbid_unknown_fields=True):
    section: text(60, 1)  # 环节
    item: text(200, 1)  # 检查项


class ChecklistIn(msgspec.Struct, forbid_unknown_fields=True):
    brand_division_id: Id
    checkpoints: Annotated[list[CheckpointIn], msgspec.Meta(max_length=mystery.MAX_CHECKPOINTS)]


class ResultIn(msgspec.Struct, forbid_unknown_fields=True):
    checkpoint_id: Id
    scored: bool  # 得分 (true) / 失分 (false)
    remark: text(500) = ""


class AuditIn(msgspec.Struct, forbid_unknown_fields=True):
    store_id: Id
    audited_on: dt.date
    results: Annotated[list[ResultIn], msgspec.Meta(max_length=mystery.MAX_CHECKPOINTS)]
    auditor: text(60) = ""


@dataclass
class AuditImportForm:
    """Multipart form of an audit import: the XLSX (or CSV) file and whether valid audits go in alone."""

    file: Annotated[UploadFile, Parameter(description=(
        "XLSX or CSV, one row per checkpoint, in the columns 门店编码、检查日期、环节、检查项、结果、备注"))]
    accept_valid_rows: bool = False


@get(f"{BASE}/checkpoints", tags=TAGS)
async def list_checkpoints(
    actor: Scope, brand_division_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)]
) -> Page[dict[str, Any]]:
    """The active checkpoint list of a brand of the caller's group: the whole checklist on one page, in its order
    (`sort` is `position`)."""
    return lists.whole(await mystery.list_checkpoints(actor=actor, brand_division_id=brand_division_id),
                       sort="position")


@put(f"{BASE}/checkpoints", tags=TAGS)
async def put_checkpoints(actor: Scope, data: ChecklistIn) -> Page[dict[str, Any]]:
    """Replace a brand's checkpoint list (group admins). Kept checkpoints keep their ids; past audits are unchanged.
    Answers the list as `GET` reads it."""
    entries = [mystery.CheckpointEntry(c.section.strip(), c.item.strip()) for c in data.checkpoints]
    return lists.whole(await mystery.set_checkpoints(actor=actor, brand_division_id=data.brand_division_id,
                                                     entries=entries), sort="position")


@get(f"{BASE}/stores/{{store_id:int}}/checkpoints", tags=TAGS)
async def store_checkpoints(actor: Scope, store_id: IdParam) -> Page[dict[str, Any]]:
    """The checklist an audit of this store is recorded against (its brand's), whole, in its order (`sort` is
    `position`)."""
    return lists.whole(await mystery.checkpoints_of_store(actor=actor, store_id=store_id), sort="position")


@get(f"{BASE}/audits", tags=TAGS)
async def list_audits(
    actor: Scope,
    store_id: OptionalStoreIdQuery = None,
    since: Annotated[dt.date | None, Parameter(query="from", required=False)] = None,
    until: Annotated[dt.date | None, Parameter(query="to", required=False)] = None,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[dict[str, Any]]:
    """Audits the caller may see, with score rate (%, two decimals) and pay multiplier; one page with the total.
    `sort`: `audited` (default `-audited`, newest first), `store`, `auditor`, `recorded`; `-key` for descending."""
    want = mystery.AUDIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await mystery.audit_page(actor=actor, store_id=store_id, since=since, until=until, want=want)


@post(f"{BASE}/audits", tags=TAGS)
async def record_audit(actor: Scope, data: AuditIn) -> dict[str, Any]:
    """Record an audit: each checkpoint scored or lost. No checkpoint → 400; the store's audit of that date → 409."""
    results = [mystery.ResultEntry(r.checkpoint_id, r.scored, r.remark.strip()) for r in data.results]
    return await mystery.record_audit(
        actor=actor, store_id=data.store_id, audited_on=data.audited_on, results=results, auditor=data.auditor.strip()
    )


@get(f"{BASE}/audits/{{audit_id:int}}", tags=TAGS)
async def get_audit(actor: Scope, audit_id: IdParam) -> dict[str, Any]:
    """One mystery-shopper audit (神秘顾客) with its checkpoint results."""
    return await mystery.get_audit(actor=actor, audit_id=audit_id)


@post(f"{BASE}/audits/import", tags=TAGS, request_max_body_size=mystery_import.MAX_FILE_BYTES + 64 * 1024)
async def import_audits(
    actor: Scope, data: Annotated[AuditImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response[Any]:
    """Import audits from XLSX or CSV, one row per checkpoint (门店编码, 检查日期, 环节, 检查项, 结果, 备注).

    Answers 202 with `{"job_id", "url"}` at once: a background job imports the file; `GET /api/v1/imports/{id}`
    gives its progress and, at the end, the per-row report. A file that cannot be read at all is a 400 on `file`
    here. A file with row errors imports nothing unless `accept_valid_rows`; then the audits without errors are
    imported. Re-importing replaces the audits of the same store and date.
    """
    job = await imports.start_import(actor=actor, kind="mystery_audits", filename=data.file.filename or "",
                                     upload=data.file.file, accept_valid_rows=data.accept_valid_rows)
    return import_answer(job)


SCORES = "/api/v1/manufacturer-scores"
Survey = Annotated[str | None, Parameter(required=False, pattern="^(phone|visit)$")]
Period = Annotated[str | None, Parameter(required=False, pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")]


@dataclass
class ScoreImportForm:
    """Multipart form of a manufacturer's report: the file and whether valid rows go in alone."""

    file: Annotated[UploadFile, Parameter(description=(
        "CSV or XLSX as the manufacturer sends it, in the columns 门店编码、调查方式、期间、指标、得分、区域平均、全国平均、"
        "全国排名、参评店数、电访落实率"))]
    accept_valid_rows: bool = False


@get(SCORES, tags=["manufacturer-scores"])
async def list_scores(
    actor: Scope, store_id: OptionalStoreIdQuery = None, survey: Survey = None, period: Period = None,
    sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None,
) -> Page[dict[str, Any]]:
    """Imported manufacturer scores (SSI / CSI per store, survey 电访 phone / 面访 visit and period), one page with
    the total. `sort`: `period` (default `-period`, newest first), `store`, `survey`, `metric`, `score`, `rank`,
    `imported`; `-key` for descending. A store the caller does not see lists nothing."""
    want = manufacturer.SCORE_LIST.parse(sort=sort, page=page, page_size=page_size)
    if store_id is not None and not actor.can_see_store(store_id):
        return want.page_of([], 0)
    return await manufacturer.list_scores(actor=actor, store_id=store_id, survey=survey, period=period, want=want)


@post(f"{SCORES}/import", tags=["manufacturer-scores"], request_max_body_size=mystery_import.MAX_FILE_BYTES + 64 * 1024)
async def import_scores(
    actor: Scope, data: Annotated[ScoreImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response[Any]:
    """Import a manufacturer's report (CSV or XLSX): 门店编码, 调查方式 (电访/面访), 期间, 指标 (SSI/CSI), 得分,
    区域平均, 全国平均, 全国排名, 参评店数, 电访落实率. Answers 202 with `{"job_id", "url"}`: a background job
    imports the file (progress and per-row report at `GET /api/v1/imports/{id}`); an unreadable file is a 400 on
    `file` here. Errors → nothing written unless `accept_valid_rows`; a re-import replaces the same store,
    survey, period and metric."""
    job = await imports.start_import(actor=actor, kind="manufacturer_scores", filename=data.file.filename or "",
                                     upload=data.file.file, accept_valid_rows=data.accept_valid_rows)
    return import_answer(job)


@get("/api/v1/stores/{store_id:int}/standing", tags=["manufacturer-scores"])
async def store_standing(
    actor: Scope, store_id: IdParam, survey: Annotated[str, Parameter(pattern="^(phone|visit)$")] = "phone",
    period: Period = None,
) -> dict[str, Any]:
    """CS = SSI + CSI, position against the regional and national averages (equal is not below), national rank
    band and change against the previous period; 电访落实率 for the phone survey."""
    return await standing.store_standing(actor=actor, store_id=store_id, survey=survey, period=period)


Month = Annotated[str | None, Parameter(required=False, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]


class ThresholdsIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Thresholds in percent; the ones left out keep their value."""

    strength_very_satisfied_min: Percent | msgspec.UnsetType = msgspec.UNSET
    weakness_very_satisfied_max: Percent | msgspec.UnsetType = msgspec.UNSET
    weakness_unhappy_min: Percent | msgspec.UnsetType = msgspec.UNSET
    weakness_drop_min: Percent | msgspec.UnsetType = msgspec.UNSET


@get("/api/v1/stores/{store_id:int}/strengths-weaknesses", tags=["satisfaction"])
async def strengths_weaknesses(actor: Scope, store_id: IdParam, month: Month = None) -> dict[str, Any]:
    """优势/劣势项目 of the store's internal SSI/CSI answers in a month (default: the current month)."""
    try:
        day = dt.date.fromisoformat(f"{month}-01") if month else clock.now().date()
    except ValueError:  # year 0000
        raise InvalidInput.one("month", "月份须在2000年至2099年之间", "The month must be between 2000 and 2099") from None
    return await items.strengths_and_weaknesses(actor=actor, store_id=store_id, month=day)


@get("/api/v1/satisfaction/thresholds", tags=["satisfaction"])
async def get_thresholds(actor: Scope) -> dict[str, int]:
    """The group's thresholds for a strength and a weakness (satisfaction scores)."""
    return dataclasses.asdict(await items.thresholds(actor=actor))


@put("/api/v1/satisfaction/thresholds", tags=["satisfaction"])
async def put_thresholds(actor: Scope, data: ThresholdsIn) -> dict[str, int]:
    """The group's strength and weakness thresholds (group admin)."""
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    return dataclasses.asdict(await items.set_thresholds(actor=actor, changes=changes))


ROUTES = [list_checkpoints, put_checkpoints, store_checkpoints, list_audits, record_audit, get_audit, import_audits,
          list_scores, import_scores, store_standing, strengths_weaknesses, get_thresholds, put_thresholds]
