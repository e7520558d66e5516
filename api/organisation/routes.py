"""Organisation and people API (集团组织架构 / 人员): divisions, regions, stores; users, their roles and their access.

Thin: each route calls one service of `crm.organisation`, which decides who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from api.errors import import_answer
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import Id, IdParam, OptionalStoreIdQuery, text, text_param
from crm.lists import Page
from crm.imports import service as imports
from crm.organisation import people, structure
from crm.satisfaction.sheets import MAX_FILE_BYTES
from tenants.scope import Scope

TAGS = ["organisation"]
PEOPLE_TAGS = ["people"]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
UNSET = msgspec.UNSET


class DivisionIn(msgspec.Struct, forbid_unknown_fields=True):
    name: text(100, 1)
    code: text(32, 1)


class DivisionPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: text(100, 1) | msgspec.UnsetType = UNSET
    code: text(32, 1) | msgspec.UnsetType = UNSET


class RegionIn(msgspec.Struct, forbid_unknown_fields=True):
    name: text(100, 1)


class StoreIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new store; the hours are its own opening hours and contact window (empty: the group's)."""

    code: text(32, 1)
    name: text(100, 1)
    city: text(50) = ""
    address: text(200) = ""
    brand: text(50) = ""
    timezone: text(64) = ""
    brand_division_id: Id | None = None
    region_id: Id | None = None
    open_time: HHMM | None = None
    close_time: HHMM | None = None
    contact_start: HHMM | None = None
    contact_end: HHMM | None = None


class StorePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Fields to change; giving brand_division_id or region_id moves the store (null: none)."""

    code: text(32, 1) | msgspec.UnsetType = UNSET
    name: text(100, 1) | msgspec.UnsetType = UNSET
    city: text(50) | msgspec.UnsetType = UNSET
    address: text(200) | msgspec.UnsetType = UNSET
    brand: text(50) | msgspec.UnsetType = UNSET
    timezone: text(64) | msgspec.UnsetType = UNSET
    brand_division_id: Id | None | msgspec.UnsetType = UNSET
    region_id: Id | None | msgspec.UnsetType = UNSET
    open_time: HHMM | msgspec.UnsetType = UNSET
    close_time: HHMM | msgspec.UnsetType = UNSET
    contact_start: HHMM | msgspec.UnsetType = UNSET
    contact_end: HHMM | msgspec.UnsetType = UNSET


RoleName = text(40, 1)


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new user: roles (e.g. ["callback_agent"]), a store for store roles, none for group roles."""

    username: text(64, 1)
    display_name: text(100, 1)
    roles: Annotated[list[RoleName], msgspec.Meta(max_length=12)]
    store_id: Id | None = None
    brand_division_id: Id | None = None
    email: text(200) = ""
    phone: text(20) = ""


class PersonPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    display_name: text(100, 1) | msgspec.UnsetType = UNSET
    roles: Annotated[list[RoleName], msgspec.Meta(max_length=12)] | msgspec.UnsetType = UNSET
    store_id: Id | None | msgspec.UnsetType = UNSET
    brand_division_id: Id | None | msgspec.UnsetType = UNSET
    email: text(200) | msgspec.UnsetType = UNSET
    phone: text(20) | msgspec.UnsetType = UNSET


@dataclass
class PeopleImportForm:
    """Multipart form of a people import: the XLSX (or CSV) sheet and whether valid rows go in alone."""

    file: Annotated[UploadFile, Parameter(description=(
        "XLSX or CSV, one user a row, in the columns 用户名、姓名、角色、门店编码、品牌事业部、邮箱、手机"))]
    accept_valid_rows: bool = False


# ---------------------------------------------------------------- organisation


@get("/api/v1/organisation", tags=TAGS)
async def get_organisation(actor: Scope) -> dict[str, Any]:
    """The group's brand divisions, regions and stores (closed ones too). Group admins."""
    return await structure.organisation(actor=actor)


@post("/api/v1/brand-divisions", tags=TAGS, status_code=201)
async def create_division(actor: Scope, data: DivisionIn) -> dict[str, Any]:
    """Create a brand division (品牌事业部) of the group."""
    return await structure.create_division(actor=actor, name=data.name, code=data.code)


@patch("/api/v1/brand-divisions/{division_id:int}", tags=TAGS)
async def update_division(actor: Scope, division_id: IdParam, data: DivisionPatch) -> dict[str, Any]:
    """Rename a brand division."""
    return await structure.update_division(actor=actor, division_id=division_id, **_given(data))


@post("/api/v1/regions", tags=TAGS, status_code=201)
async def create_region(actor: Scope, data: RegionIn) -> dict[str, Any]:
    """Create a region of the group."""
    return await structure.create_region(actor=actor, name=data.name)


@patch("/api/v1/regions/{region_id:int}", tags=TAGS)
async def update_region(actor: Scope, region_id: IdParam, data: RegionIn) -> dict[str, Any]:
    """Rename a region."""
    return await structure.update_region(actor=actor, region_id=region_id, name=data.name)


@post("/api/v1/stores", tags=TAGS, status_code=201)
async def create_store(request: Request, actor: Scope, data: StoreIn) -> dict[str, Any]:
    """A new store of the group with its code (unique in the group), place, brand, hours and contact window."""
    store = await structure.create_store(actor=actor, values=msgspec.structs.asdict(data))
    request.app.state.caller_cache.clear()  # the group's users see the new store from their next request on
    return store


@get("/api/v1/stores/{store_id:int}", tags=TAGS)
async def get_store(actor: Scope, store_id: IdParam) -> dict[str, Any]:
    """A store's card with the hours and contact window in force."""
    return await structure.store_detail(actor=actor, store_id=store_id)


@patch("/api/v1/stores/{store_id:int}", tags=TAGS)
async def update_store(request: Request, actor: Scope, store_id: IdParam, data: StorePatch) -> dict[str, Any]:
    """Edit a store or move it between brand divisions and regions."""
    store = await structure.update_store(actor=actor, store_id=store_id, values=_given(data))
    request.app.state.caller_cache.clear()  # a move changes which brand-division users see the store
    return store


@post("/api/v1/stores/{store_id:int}/close", tags=TAGS, status_code=200)
async def close_store(actor: Scope, store_id: IdParam) -> dict[str, Any]:
    """关闭门店: no new work goes to it, its open callbacks are cancelled, its history stays readable."""
    return await structure.close_store(actor=actor, store_id=store_id)


@post("/api/v1/stores/{store_id:int}/reopen", tags=TAGS, status_code=200)
async def reopen_store(actor: Scope, store_id: IdParam) -> dict[str, Any]:
    """Reopen a closed store: it takes new work again."""
    return await structure.reopen_store(actor=actor, store_id=store_id)


# ---------------------------------------------------------------- people


@get("/api/v1/users", tags=PEOPLE_TAGS)
async def list_users(
    actor: Scope,
    q: Annotated[text_param(50), Parameter(required=False)] = "",
    store_id: OptionalStoreIdQuery = None,
    role: Annotated[text_param(40) | None, Parameter(required=False)] = None,
    active: bool | None = None,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[dict[str, Any]]:
    """The users the caller may see (group admin: the group; GM and CR manager: their store), one page with the
    total. `sort`: `default` (active first, by username), `username`, `name`, `store`, `status`; `-key` descending."""
    want = people.PEOPLE_LIST.parse(sort=sort, page=page, page_size=page_size)
    filters = people.PeopleFilter(q=q, store_id=store_id, role=role, active=active)
    return await people.list_people(actor=actor, filters=filters, want=want)


@post("/api/v1/users", tags=PEOPLE_TAGS, status_code=201)
async def create_user(actor: Scope, data: PersonIn) -> dict[str, Any]:
    """A new user; the answer holds the temporary password, shown this once (the first sign-in changes it)."""
    user, password = await people.create_person(actor=actor, data=people.PersonInput(**msgspec.structs.asdict(data)))
    return {"user": user, "temporary_password": password}


@get("/api/v1/users/{user_id:int}", tags=PEOPLE_TAGS)
async def get_user(actor: Scope, user_id: IdParam) -> dict[str, Any]:
    """One user of the group with roles, store and division."""
    return await people.person(actor=actor, user_id=user_id)


@patch("/api/v1/users/{user_id:int}", tags=PEOPLE_TAGS)
async def update_user(request: Request, actor: Scope, user_id: IdParam, data: PersonPatch) -> dict[str, Any]:
    """Change a user's name, contact details, roles, store or division; audited."""
    user = await people.update_person(actor=actor, user_id=user_id, changes=_given(data))
    request.app.state.caller_cache.clear()  # new roles or store count from the next request on
    return user


@post("/api/v1/users/{user_id:int}/disable", tags=PEOPLE_TAGS, status_code=200)
async def disable_user(request: Request, actor: Scope, user_id: IdParam) -> dict[str, Any]:
    """停用: tokens revoked and sessions ended at once; claimed callbacks back to the queue; handled complaints
    to the store's customer-relations manager (else the GM), who is notified."""
    user = await people.disable_person(actor=actor, user_id=user_id)
    request.app.state.caller_cache.clear()
    return user


@post("/api/v1/users/{user_id:int}/enable", tags=PEOPLE_TAGS, status_code=200)
async def enable_user(request: Request, actor: Scope, user_id: IdParam) -> dict[str, Any]:
    """Enable a disabled user again."""
    user = await people.enable_person(actor=actor, user_id=user_id)
    request.app.state.caller_cache.clear()
    return user


@post("/api/v1/users/{user_id:int}/reset-password", tags=PEOPLE_TAGS, status_code=200)
async def reset_user_password(request: Request, actor: Scope, user_id: IdParam) -> dict[str, Any]:
    """A new temporary password, shown this once; the user's sessions and tokens end."""
    password = await people.reset_password(actor=actor, user_id=user_id)
    request.app.state.caller_cache.clear()
    return {"user_id": user_id, "temporary_password": password}


@post("/api/v1/users/import", tags=PEOPLE_TAGS, request_max_body_size=MAX_FILE_BYTES + 64 * 1024)
async def import_users(
    actor: Scope, data: Annotated[PeopleImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response[Any]:
    """Create users from XLSX or CSV (用户名, 姓名, 角色, 门店编码, 品牌事业部, 邮箱, 手机), one a row.

    Answers 202 with `{"job_id", "url"}`: a background job reads the sheet; `GET /api/v1/imports/{id}` gives its
    progress and, at the end, the per-row report. A sheet that cannot be read at all is a 400 on `file` here. A
    sheet with row errors creates nobody unless `accept_valid_rows`; the created users' temporary passwords are
    in the report the first time the importer reads it, and never again.
    """
    job = await imports.start_import(actor=actor, kind="people", filename=data.file.filename or "",
                                     upload=data.file.file, accept_valid_rows=data.accept_valid_rows)
    return import_answer(job)


ROUTES = [get_organisation, create_division, update_division, create_region, update_region, create_store, get_store,
          update_store, close_store, reopen_store, list_users, create_user, get_user, update_user, disable_user,
          enable_user, reset_user_password, import_users]


def _given(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
