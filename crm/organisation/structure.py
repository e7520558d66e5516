"""Brand divisions (品牌事业部), regions (区域) and stores (4S店) of a group: create, edit, move, close, reopen.

A store's opening hours and contact window are its calendar settings (`crm.calendar.settings`), kept where the
callback and complaint deadlines read them; the store form only passes them on.

Closing a store (关闭门店) keeps its history readable (complaints, callbacks, reports, users) and takes it out of
new work: it leaves the store pickers, complaints can no longer be taken for or re-routed to it
(`tenants.directory.require_open_store`), and its open callbacks (planned or waiting in the queue) are cancelled with
their timers — nobody works a closed store's queue, and they must not count as missed. Complaints already open
there keep their deadlines and timers: the customer is still owed an answer, the store's managers (or the group,
by re-routing one not yet handled) finish them. Reopening takes the store back into new work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import available_timezones

from crm.calendar import settings as calendar_settings
from crm.calendar.service import calendar_for_store
from crm.callbacks.scheduling import cancel_for_store
from crm.db import transaction
from crm.organisation.access import ORGANISATION_ADMINS, STORE_READERS
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.scope import Scope, timezone_of
from tenants.tables import BrandDivision, Region, Store

CODE = re.compile(r"^\S+$")  # a code is typed into sheets and URLs: no spaces
HOURS = ("open_time", "close_time", "contact_start", "contact_end")


@dataclass(frozen=True)
class StoreField:
    """One editable field of a store, as the API, the form and the checks know it."""

    name: str
    label_zh: str
    label_en: str
    max_len: int
    required: bool = False


STORE_FIELDS = (
    StoreField("code", "门店编码", "Code", 32, required=True),
    StoreField("name", "门店名称", "Name", 100, required=True),
    StoreField("city", "城市", "City", 50),
    StoreField("address", "地址", "Address", 200),
    StoreField("brand", "品牌", "Brand", 50),
    StoreField("timezone", "时区（留空随集团）", "Timezone (empty: the group's)", 64),
)


# ---------------------------------------------------------------- reading


async def organisation(*, actor: Scope) -> dict[str, Any]:
    """The group's divisions, regions and every store (closed ones too), for the organisation page."""
    actor.require_role(*ORGANISATION_ADMINS)
    group = actor.group_id or -1
    divisions = await BrandDivision.select().where(BrandDivision.group == group).order_by(BrandDivision.name)
    regions = await Region.select().where(Region.group == group).order_by(Region.name)
    stores = await Store.select().where(Store.group == group, Store.id.is_in(sorted(actor.store_ids) or [-1])).order_by(
        Store.code)
    names = {("d", d["id"]): d["name"] for d in divisions} | {("r", r["id"]): r["name"] for r in regions}
    return {
        "divisions": [{"id": d["id"], "name": d["name"], "code": d["code"]} for d in divisions],
        "regions": [{"id": r["id"], "name": r["name"]} for r in regions],
        "stores": [_store_out(s, names) for s in stores],
    }


async def store_detail(*, actor: Scope, store_id: int) -> dict[str, Any]:
    """A store's card with the opening hours and contact window in force (its own or the group's)."""
    actor.require_role(*STORE_READERS)
    store = await _store(actor, store_id)
    names = await _names(actor)
    calendar = await calendar_for_store(store_id)
    return {
        **_store_out(store, names),
        "effective_timezone": (await timezone_of(store=store_id)).key,
        **calendar_settings.describe(calendar),
    }


# ---------------------------------------------------------------- divisions and regions


async def create_division(*, actor: Scope, name: str, code: str) -> dict[str, Any]:
    actor.require_role(*ORGANISATION_ADMINS)
    name, code = _division_values(name, code)
    async with transaction():
        await _unique_division_code(actor, code, None)
        row = (await BrandDivision.insert(BrandDivision(group=actor.group_id, name=name, code=code)).returning(
            BrandDivision.id))[0]
        await audit.record(actor, "division.create", "brand_division", row["id"], after={"name": name, "code": code})
    return {"id": row["id"], "name": name, "code": code}


async def update_division(*, actor: Scope, division_id: int, name: str | None = None,
                          code: str | None = None) -> dict[str, Any]:
    actor.require_role(*ORGANISATION_ADMINS)
    async with transaction():
        before = await _division(actor, division_id)
        new_name, new_code = _division_values(
            before["name"] if name is None else name, before["code"] if code is None else code)
        await _unique_division_code(actor, new_code, division_id)
        await BrandDivision.update({BrandDivision.name: new_name, BrandDivision.code: new_code}).where(
            BrandDivision.id == division_id, BrandDivision.group == actor.group_id)
        after = {"name": new_name, "code": new_code}
        await audit.record(actor, "division.update", "brand_division", division_id,
                           before={"name": before["name"], "code": before["code"]}, after=after)
    return {"id": division_id, **after}


async def create_region(*, actor: Scope, name: str) -> dict[str, Any]:
    actor.require_role(*ORGANISATION_ADMINS)
    name = _required_text("name", name, 100, "请填写区域名称", "Enter the region's name")
    async with transaction():
        row = (await Region.insert(Region(group=actor.group_id, name=name)).returning(Region.id))[0]
        await audit.record(actor, "region.create", "region", row["id"], after={"name": name})
    return {"id": row["id"], "name": name}


async def update_region(*, actor: Scope, region_id: int, name: str) -> dict[str, Any]:
    actor.require_role(*ORGANISATION_ADMINS)
    async with transaction():
        before = await _region(actor, region_id)
        name = _required_text("name", name, 100, "请填写区域名称", "Enter the region's name")
        await Region.update({Region.name: name}).where(Region.id == region_id, Region.group == actor.group_id)
        await audit.record(actor, "region.update", "region", region_id, before={"name": before["name"]},
                           after={"name": name})
    return {"id": region_id, "name": name}


# ---------------------------------------------------------------- stores


async def create_store(*, actor: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """A new store of the caller's group; `values` holds STORE_FIELDS, brand_division_id, region_id and the hours."""
    actor.require_role(*ORGANISATION_ADMINS)
    fields, hours = await _checked(actor, values, None)
    async with transaction():
        await _unique_store_code(actor, fields["code"], None)
        row = (await Store.insert(Store(group=actor.group_id, **fields)).returning(Store.id))[0]
        store_id = row["id"]
        with_store = replace(actor, store_ids=actor.store_ids | {store_id})
        if hours:
            await calendar_settings.update_settings(actor=with_store, store_id=store_id, changes=hours)
        await audit.record(actor, "store.create", "store", store_id, after=_audited(fields, hours))
    return await store_detail(actor=with_store, store_id=store_id)


async def update_store(*, actor: Scope, store_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Edit a store, or move it to another division or region (only the fields given change)."""
    actor.require_role(*ORGANISATION_ADMINS)
    async with transaction():
        before = await _store(actor, store_id)
        merged = {f.name: before[f.name] or "" for f in STORE_FIELDS} | {
            "brand_division_id": before["brand_division"], "region_id": before["region"]} | values
        fields, hours = await _checked(actor, merged, store_id)
        await _unique_store_code(actor, fields["code"], store_id)
        await Store.update({getattr(Store, k): v for k, v in fields.items()}).where(
            Store.id == store_id, Store.group == actor.group_id)
        old_hours = calendar_settings.describe(await calendar_for_store(store_id))
        if hours:
            await calendar_settings.update_settings(actor=actor, store_id=store_id, changes=hours)
        old = {f: before[f] for f in fields} | {k: old_hours[k] for k in hours}
        await audit.record(actor, "store.update", "store", store_id, before=old, after=_audited(fields, hours))
    return await store_detail(actor=actor, store_id=store_id)


async def close_store(*, actor: Scope, store_id: int) -> dict[str, Any]:
    """关闭门店: no new work goes to it; its history stays; its unworked planned callbacks are cancelled."""
    actor.require_role(*ORGANISATION_ADMINS)
    async with transaction():
        store = await _store(actor, store_id)
        cancelled = 0
        if store["active"]:
            await Store.update({Store.active: False}).where(Store.id == store_id, Store.group == actor.group_id)
            cancelled = await cancel_for_store(group_id=store["group"], store_id=store_id)
            await audit.record(actor, "store.close", "store", store_id, before={"active": True},
                               after={"active": False, "callbacks_cancelled": cancelled})
    return {**await store_detail(actor=actor, store_id=store_id), "callbacks_cancelled": cancelled}


async def reopen_store(*, actor: Scope, store_id: int) -> dict[str, Any]:
    actor.require_role(*ORGANISATION_ADMINS)
    async with transaction():
        store = await _store(actor, store_id)
        if not store["active"]:
            await Store.update({Store.active: True}).where(Store.id == store_id, Store.group == actor.group_id)
            await audit.record(actor, "store.reopen", "store", store_id, before={"active": False},
                               after={"active": True})
    return await store_detail(actor=actor, store_id=store_id)


async def store_picker(*, actor: Scope) -> list[dict[str, Any]]:
    """The open stores the caller may choose in a form (closed ones are left out)."""
    return await Store.select(Store.id, Store.code, Store.name).where(
        Store.group == (actor.group_id or -1), Store.id.is_in(sorted(actor.store_ids) or [-1]), Store.active.eq(True)
    ).order_by(Store.code)


# ---------------------------------------------------------------- helpers


async def _store(actor: Scope, store_id: int) -> dict[str, Any]:
    store = await Store.select().where(Store.id == actor.require_store(store_id), Store.group == actor.group_id).first()
    if store is None:
        raise NotFound("store")
    return store


async def _division(actor: Scope, division_id: int) -> dict[str, Any]:
    row = await BrandDivision.select().where(BrandDivision.id == division_id,
                                             BrandDivision.group == (actor.group_id or -1)).first()
    if row is None:
        raise NotFound("brand_division")
    return row


async def _region(actor: Scope, region_id: int) -> dict[str, Any]:
    row = await Region.select().where(Region.id == region_id, Region.group == (actor.group_id or -1)).first()
    if row is None:
        raise NotFound("region")
    return row


async def _names(actor: Scope) -> dict[tuple[str, int], str]:
    group = actor.group_id or -1
    divisions = await BrandDivision.select(BrandDivision.id, BrandDivision.name).where(BrandDivision.group == group)
    regions = await Region.select(Region.id, Region.name).where(Region.group == group)
    return {("d", d["id"]): d["name"] for d in divisions} | {("r", r["id"]): r["name"] for r in regions}


def _store_out(store: dict[str, Any], names: dict[tuple[str, int], str]) -> dict[str, Any]:
    return {
        "id": store["id"], "code": store["code"], "name": store["name"], "city": store["city"],
        "address": store["address"], "brand": store["brand"], "timezone": store["timezone"],
        "brand_division_id": store["brand_division"], "brand_division_name": names.get(("d", store["brand_division"]), ""),
        "region_id": store["region"], "region_name": names.get(("r", store["region"]), ""),
        "active": store["active"],
    }


async def _checked(actor: Scope, values: dict[str, Any], store_id: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store's columns and its hours from what was typed, or every problem at once (InvalidInput)."""
    problems: list[FieldProblem] = []
    fields: dict[str, Any] = {}
    for field in STORE_FIELDS:
        value = str(values.get(field.name) or "").strip()
        if field.required and not value:
            problems.append(FieldProblem(field.name, f"请填写{field.label_zh}", f"Enter the {field.label_en.lower()}"))
        elif len(value) > field.max_len:
            problems.append(FieldProblem(field.name, f"不能超过{field.max_len}个字符", f"At most {field.max_len} characters"))
        fields[field.name] = value
    if fields["code"] and not CODE.match(fields["code"]):
        problems.append(FieldProblem("code", "门店编码不能包含空格", "No spaces in the code"))
    if fields["timezone"] and fields["timezone"] not in available_timezones():
        problems.append(FieldProblem("timezone", "时区无效（例如 Asia/Shanghai）", "Unknown timezone (e.g. Asia/Shanghai)"))
    fields["timezone"] = fields["timezone"] or None
    division, region = values.get("brand_division_id"), values.get("region_id")
    if division is not None and not await BrandDivision.exists().where(
            BrandDivision.id == division, BrandDivision.group == (actor.group_id or -1)):
        problems.append(FieldProblem("brand_division_id", "品牌事业部不存在", "Unknown brand division"))
    if region is not None and not await Region.exists().where(Region.id == region, Region.group == (actor.group_id or -1)):
        problems.append(FieldProblem("region_id", "区域不存在", "Unknown region"))
    fields["brand_division"], fields["region"] = division, region
    hours = {name: values[name] for name in HOURS if values.get(name)}
    for name, value in hours.items():
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
            problems.append(FieldProblem(name, "时间格式应为 HH:MM", "Use HH:MM"))
    for start, end in (("open_time", "close_time"), ("contact_start", "contact_end")):
        if start in hours and end in hours and hours[start] >= hours[end]:
            problems.append(FieldProblem(end, "结束时间必须晚于开始时间", "The end must be after the start"))
    if problems:
        raise InvalidInput(problems)
    return fields, hours


async def _unique_store_code(actor: Scope, code: str, store_id: int | None) -> None:
    query = Store.exists().where(Store.group == actor.group_id, Store.code == code)
    if store_id is not None:
        query = query.where(Store.id != store_id)
    if await query:
        raise InvalidInput.one("code", "本集团已有该门店编码", "Another store of the group has this code")


async def _unique_division_code(actor: Scope, code: str, division_id: int | None) -> None:
    query = BrandDivision.exists().where(BrandDivision.group == actor.group_id, BrandDivision.code == code)
    if division_id is not None:
        query = query.where(BrandDivision.id != division_id)
    if await query:
        raise InvalidInput.one("code", "本集团已有该事业部编码", "Another division of the group has this code")


def _division_values(name: str, code: str) -> tuple[str, str]:
    problems = []
    name, code = (name or "").strip(), (code or "").strip()
    if not name:
        problems.append(FieldProblem("name", "请填写事业部名称", "Enter the division's name"))
    if not code or not CODE.match(code) or len(code) > 32:
        problems.append(FieldProblem("code", "请填写1–32个字符的编码（不含空格）",
                                     "Enter a code of 1–32 characters without spaces"))
    if len(name) > 100:
        problems.append(FieldProblem("name", "不能超过100个字符", "At most 100 characters"))
    if problems:
        raise InvalidInput(problems)
    return name, code


def _required_text(field: str, value: str, max_len: int, zh: str, en: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput.one(field, zh, en)
    if len(value) > max_len:
        raise InvalidInput.one(field, f"不能超过{max_len}个字符", f"At most {max_len} characters")
    return value


def _audited(fields: dict[str, Any], hours: dict[str, Any]) -> dict[str, Any]:
    return {**fields, **hours}
