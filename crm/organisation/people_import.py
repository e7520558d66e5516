"""Bulk creation of users from a sheet (批量导入人员): XLSX or CSV, Chinese or English headers, one user a row.

Every row is checked as the single-user form checks it (`people._checked`, the same grant rule); the report
lists each row's problems (the row errors of every import). Nothing is written while a row has a problem,
unless "accept valid rows" is asked: then the good rows are created and the others reported. Each created
user gets a temporary password, in the report only, sealed (`crm.privacy.vault`) while the job keeps it and shown
once to whoever imported the sheet (`opened_once`, then `shown_once` takes it out). Run
by an import job (`crm.imports`), which reads the kept file as a stream (XLSX in openpyxl's read-only mode).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any, BinaryIO

import anyio.to_thread
import msgspec

from crm.db import transaction
from crm.privacy import vault
from crm.organisation.access import PEOPLE_ADMINS, may_manage
from crm.organisation.people import PersonInput, _checked, _insert
from crm.satisfaction import sheets
from crm.satisfaction.sheets import MAX_REPORTED_ERRORS, PROGRESS_ROWS, Progress, RowError, row_error, text_of
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


class CreatedUser(msgspec.Struct, kw_only=True):
    row: int
    id: int
    username: str
    display_name: str
    temporary_password: str


class PeopleImportReport(msgspec.Struct, kw_only=True):
    """What an import found and did. `imported` is false when nobody was created; `errors` keeps the first
    problems, `rows_with_errors` counts every refused row."""

    filename: str
    rows_total: int = 0
    rows_valid: int = 0
    rows_with_errors: int = 0
    imported: bool = False
    created: list[CreatedUser] = []
    errors: list[RowError] = []

    def counts(self) -> tuple[int, int, int]:
        """Rows read, users created and rows refused: the import job's counts."""
        return self.rows_total, len(self.created), self.rows_with_errors


check_file = partial(sheets.check_file, aliases=ALIASES, required=REQUIRED)


def shown_once(report: dict[str, Any]) -> dict[str, Any]:
    """The report once its reader has seen it: the temporary passwords taken out."""
    return {**report, "created": [{**c, "temporary_password": ""} for c in report.get("created", [])]}


def opened_once(report: dict[str, Any]) -> dict[str, Any]:
    """The report for the importer's one reading: the temporary passwords in clear."""
    return {**report, "created": [{**c, "temporary_password": vault.unseal(c["temporary_password"])}
                                  for c in report.get("created", [])]}


async def import_people(
    *, actor: Scope, filename: str, content: bytes | BinaryIO, accept_valid_rows: bool = False,
    sheet: str | None = None, progress: Progress | None = None,
) -> PeopleImportReport:
    """Check every row, then create the users (all, or with `accept_valid_rows` the rows without problems).
    `progress` hears the counts every `PROGRESS_ROWS` rows."""
    actor.require_role(*PEOPLE_ADMINS)
    stores, divisions = await _places(actor)
    errors: list[RowError] = []
    bad_rows: set[int] = set()
    valid: list[tuple[int, PersonInput, frozenset[Role], dict[str, Any]]] = []
    seen: set[str] = set()
    report = PeopleImportReport(filename=filename)
    with sheets.read_sheet(filename=filename, content=content, aliases=ALIASES, required=REQUIRED,
                           sheet=sheet) as parsed:

        def problem(number: int, field: str, zh: str, en: str) -> None:
            bad_rows.add(number)
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(row_error(number, parsed.columns.get(field, field), field, zh, en))

        for number, cells in parsed.rows:
            report.rows_total += 1
            if progress is not None and report.rows_total % PROGRESS_ROWS == 0:
                await progress(report.rows_total, 0, len(bad_rows))
            data = _row_input(number, cells, stores, divisions, problem)
            if number in bad_rows:
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
    if progress is not None:
        await progress(report.rows_total, 0, len(bad_rows))
    if not report.rows_total:
        problem(0, "file", "文件中没有数据行", "The file has no data rows")
    report.rows_valid, report.rows_with_errors, report.errors = len(valid), len(bad_rows - {0}), errors
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
                report.created.append(CreatedUser(row=number, id=user_id, username=data.username,
                                                  display_name=values["display_name"],
                                                  temporary_password=vault.seal(password)))
            if errors and not accept_valid_rows:
                raise _NothingWritten()
            if report.created:
                await audit.record(actor, "user.import", "user", None,
                                   after={"usernames": [c.username for c in report.created]})
    except _NothingWritten:
        report.created = []
    report.rows_with_errors = len(bad_rows - {0})
    report.imported = bool(report.created)
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
