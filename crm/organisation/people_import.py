"""Bulk creation of users from a sheet (批量导入人员): XLSX or CSV, Chinese or English headers, one user a row.

Every row is checked as the single-user form checks it (`people._checked`, the same grant rule); the report
lists each row's problems (the row errors of every import). Nothing is written while a row has a problem,
unless "accept valid rows" is asked: then the good rows are created and the others reported. Each created
user gets a temporary password, in the report only (shown once).
"""

from __future__ import annotations

import re
from typing import Any

import anyio.to_thread

from crm.customers.importer import RowError
from crm.db import transaction
from crm.organisation.access import PEOPLE_ADMINS, may_manage
from crm.organisation.people import PersonInput, _checked, _insert
from crm.satisfaction.sheets import read_sheet, row_error, text_of
from tenants import audit
from tenants.accounts import hash_password
from tenants.passwords import random_password
from tenants.errors import InvalidInput
from tenants.roles import Role
from tenants.scope import Scope
from tenants.tables import BrandDivision, Store

ALIASES = {
    "username": ["用户名", "登录名", "账号", "user name", "login"],
    "display_name": ["姓名", "名字", "name", "display name", "full name"],
    "roles": ["角色", "role", "roles"],
    "store": ["门店编码", "门店", "store code", "store"],
    "brand_division": ["品牌事业部", "事业部", "brand division", "division"],
    "email": ["邮箱", "电子邮件", "e-mail", "mail"],
    "phone": ["手机", "电话", "手机号", "mobile", "phone"],
}
REQUIRED = {"username", "display_name", "roles"}


def _role_word(word: str) -> str:
    """A role as a sheet may spell it: any case, full-width or ASCII brackets (集团总部（运营副总裁/CEO）)."""
    return word.lower().replace("（", "(").replace("）", ")")


# A field problem of the user's checks → the sheet's field it came from.
_SHEET_FIELD = {"store_id": "store", "brand_division_id": "brand_division"}
_ROLE_WORDS = {_role_word(w): r for r in Role for w in (str(r), r.title_zh, r.title_en)}


async def import_people(*, actor: Scope, filename: str, content: bytes, accept_valid_rows: bool = False) -> dict[str, Any]:
    """Check every row, then create the users (all, or with `accept_valid_rows` the rows without problems)."""
    actor.require_role(*PEOPLE_ADMINS)
    sheet = read_sheet(filename=filename, content=content, aliases=ALIASES, required=REQUIRED)
    stores, divisions = await _places(actor)
    errors: list[RowError] = []
    valid: list[tuple[int, PersonInput, frozenset[Role], dict[str, Any]]] = []
    seen: set[str] = set()

    def problem(number: int, field: str, zh: str, en: str) -> None:
        errors.append(row_error(number, sheet.columns.get(field, field), field, zh, en))

    for number, cells in sheet.rows:
        before = len(errors)
        data = _row_input(number, cells, stores, divisions, problem)
        if len(errors) > before:
            continue
        try:
            roles, values = await _checked(actor, data, creating=True)
        except InvalidInput as invalid:
            for p in invalid.problems:
                problem(number, _SHEET_FIELD.get(p.field, p.field), p.zh, p.en)
            continue
        if data.username.lower() in seen:
            problem(number, "username", "与前面的行用户名重复", "Same username as an earlier row")
        elif not may_manage(actor, store_id=values["store"], roles=roles):
            problem(number, "roles", "无权授予该角色或管理该门店员工", "You may not grant these roles at this store")
        else:
            seen.add(data.username.lower())
            valid.append((number, data, roles, values))
    if not sheet.rows:
        errors.append(row_error(0, "", "file", "文件中没有数据行", "The file has no data rows"))
    report = {"filename": filename, "rows_total": len(sheet.rows), "rows_valid": len(valid),
              "rows_with_errors": len({e.row for e in errors}), "imported": False, "created": [], "errors": errors}
    if not valid or (errors and not accept_valid_rows):
        return report
    passwords = [random_password() for _ in valid]
    hashes = [await anyio.to_thread.run_sync(hash_password, p) for p in passwords]
    try:
        async with transaction():
            for (number, data, roles, values), password, hashed in zip(valid, passwords, hashes):
                try:
                    user_id = await _insert(actor, data.username, values, roles, hashed)
                except InvalidInput as invalid:  # taken meanwhile, or by another group
                    problem(number, "username", invalid.problems[0].zh, invalid.problems[0].en)
                    continue
                report["created"].append({"row": number, "id": user_id, "username": data.username,
                                          "display_name": values["display_name"], "temporary_password": password})
            if errors and not accept_valid_rows:
                raise _NothingWritten()
            if report["created"]:
                await audit.record(actor, "user.import", "user", None,
                                   after={"usernames": [c["username"] for c in report["created"]]})
    except _NothingWritten:
        report["created"] = []
    report["rows_with_errors"] = len({e.row for e in errors})
    report["imported"] = bool(report["created"])
    return report


class _NothingWritten(Exception):
    """A row failed while writing an all-or-nothing import: the transaction is rolled back."""


def _row_input(number: int, cells: dict[str, Any], stores: dict[str, int], divisions: dict[str, int], problem) -> PersonInput:
    store_id = division_id = None
    store_text, division_text = text_of(cells.get("store")), text_of(cells.get("brand_division"))
    if store_text:
        store_id = stores.get(store_text.lower())
        if store_id is None:
            problem(number, "store", "门店不存在（请填写门店编码或名称）", "Unknown store (give its code or name)")
    if division_text:
        division_id = divisions.get(division_text.lower())
        if division_id is None:
            problem(number, "brand_division", "品牌事业部不存在", "Unknown brand division")
    roles = []
    for word in (w.strip() for w in re.split(r"[,,、;;\n]+", text_of(cells.get("roles")))):
        if not word:
            continue
        role = _ROLE_WORDS.get(_role_word(word))
        if role is None:
            problem(number, "roles", f"角色无效：{word}", f"Unknown role: {word}")
        else:
            roles.append(str(role))
    return PersonInput(
        username=text_of(cells.get("username")), display_name=text_of(cells.get("display_name")), roles=roles,
        store_id=store_id, brand_division_id=division_id,
        email=text_of(cells.get("email")), phone=text_of(cells.get("phone")),
    )


async def _places(actor: Scope) -> tuple[dict[str, int], dict[str, int]]:
    """The caller's stores and the group's divisions by code and by name (lower case), as a sheet names them."""
    group = actor.group_id or -1
    stores = await Store.select(Store.id, Store.code, Store.name).where(
        Store.group == group, Store.id.is_in(sorted(actor.store_ids) or [-1]))
    divisions = await BrandDivision.select(BrandDivision.id, BrandDivision.code, BrandDivision.name).where(
        BrandDivision.group == group)
    return ({k.lower(): s["id"] for s in stores for k in (s["name"], s["code"])},
            {k.lower(): d["id"] for d in divisions for k in (d["name"], d["code"])})
