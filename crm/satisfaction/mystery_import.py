"""Import of mystery-shopper audits from XLSX or CSV (神秘客户检查结果导入), one row per checkpoint.

Columns (Chinese or English): 门店编码 (or 门店名称), 检查日期, 环节, 检查项, 结果 (得分/失分), 备注, 检查员.
Rows of one store and date make one audit. An audit with any bad row is invalid as a whole — a
partial audit would change its score rate. All or nothing unless `accept_valid_rows`: then the
valid audits are imported and the others reported. Re-importing replaces the audits of the same
store and date (never a duplicate). One transaction. Run by an import job (`crm.imports`), which reads the
kept file as a stream.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import partial
from typing import BinaryIO

import msgspec

from crm import clock
from crm.db import transaction
from crm.satisfaction import mystery
from crm.satisfaction import sheets
from crm.satisfaction.sheets import (
    MAX_FILE_BYTES,
    MAX_REPORTED_ERRORS,
    PROGRESS_ROWS,
    Progress,
    RowError,
    date_of,
    read_sheet,
    row_error,
    stores_by_key,
    text_of,
)
from tenants.scope import Scope

__all__ = ["MAX_FILE_BYTES", "ImportReport", "check_file", "import_audits"]

ALIASES: dict[str, list[str]] = {
    "store": ["门店编码", "门店代码", "经销商代码", "门店", "门店名称", "经销商", "store", "storecode", "dealercode"],
    "audited_on": ["检查日期", "日期", "暗访日期", "audit date", "auditdate", "date"],
    "section": ["环节", "模块", "流程", "section"],
    "item": ["检查项", "检查点", "检查内容", "item", "checkpoint"],
    "result": ["结果", "得分", "是否得分", "result", "scored"],
    "remark": ["备注", "说明", "remark", "remarks", "comment"],
    "auditor": ["检查员", "访员", "暗访员", "auditor", "shopper"],
}
REQUIRED = {"store", "audited_on", "section", "item", "result"}
SCORED_WORDS = {"得分", "是", "√", "✓", "✔", "y", "yes", "1", "scored", "true", "pass", "通过"}
LOST_WORDS = {"失分", "否", "×", "✗", "✘", "x", "n", "no", "0", "lost", "false", "fail", "不通过"}


class ImportedAudit(msgspec.Struct, kw_only=True):
    store_id: int
    audited_on: dt.date
    scored: int
    lost: int
    score_rate: str
    multiplier: str


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import found and did. `imported` is false when nothing was written; `errors` keeps the first
    problems, `rows_with_errors` counts them all."""

    imported: bool
    rows: int
    rows_imported: int = 0
    rows_with_errors: int = 0
    audits: list[ImportedAudit] = []
    skipped_audits: int = 0
    errors: list[RowError] = []

    def counts(self) -> tuple[int, int, int]:
        """Rows read, imported and refused: the import job's counts."""
        return self.rows, self.rows_imported, self.rows_with_errors


check_file = partial(sheets.check_file, aliases=ALIASES, required=REQUIRED)


async def import_audits(
    *, actor: Scope, filename: str, content: bytes | BinaryIO, accept_valid_rows: bool = False,
    sheet: str | None = None, progress: Progress | None = None,
) -> ImportReport:
    """Check every row, then record the audits in one transaction (all, or with `accept_valid_rows` the audits
    without a bad row). `progress` hears the counts every `PROGRESS_ROWS` rows."""
    mystery.require_recorder(actor)
    stores = await stores_by_key(actor)
    checklists: dict[int, dict[tuple[str, str], dict]] = {}
    audits: dict[tuple[int, dt.date], list[tuple[int, mystery.ResultEntry]]] = defaultdict(list)
    auditors: dict[tuple[int, dt.date], str] = {}
    bad: set[tuple[int, dt.date]] = set()
    report = ImportReport(imported=False, rows=0)
    errors: list[RowError] = []
    with read_sheet(filename=filename, content=content, aliases=ALIASES, required=REQUIRED, sheet=sheet) as parsed:
        for number, cells in parsed.rows:
            report.rows += 1
            problems: list[RowError] = []

            def problem(field: str, zh: str, en: str, number: int = number, problems: list = problems) -> None:
                problems.append(row_error(number, parsed.columns.get(field, field), field, zh, en))

            store_id = stores.get(text_of(cells["store"]))
            if store_id is None:
                problem("store", "门店不存在或无权访问", "Unknown store")
            day = date_of(cells["audited_on"])
            if day is None:
                problem("audited_on", "日期格式错误（如 2026-11-30）", "Unreadable date (e.g. 2026-11-30)")
            elif day > clock.now().date() + dt.timedelta(days=1):
                problem("audited_on", "检查日期不能晚于今天", "The audit date cannot be in the future")
            result = text_of(cells["result"]).lower()
            scored = True if result in SCORED_WORDS else False if result in LOST_WORDS else None
            if scored is None:
                problem("result", "结果应为“得分”或“失分”", "The result must be scored (得分) or lost (失分)")
            remark = text_of(cells.get("remark"))
            if len(remark) > 500:
                problem("remark", "备注不能超过500字", "The remark is longer than 500 characters")
            checkpoint = None
            if store_id is not None:
                if store_id not in checklists:
                    checklists[store_id] = {(c["section"], c["item"]): c
                                            for c in await mystery.checkpoints_of_store(actor=actor, store_id=store_id)}
                checkpoint = checklists[store_id].get((text_of(cells["section"]), text_of(cells["item"])))
                if checkpoint is None:
                    problem("item", "检查项不在该门店品牌的检查清单中", "The checkpoint is not on the list of the store's brand")
            if store_id is not None and day is not None:
                key = (store_id, day)
                if checkpoint is not None and any(r.checkpoint_id == checkpoint["id"] for _, r in audits[key]):
                    problem("item", "同一检查中检查项重复", "The checkpoint appears twice in one audit")
                if problems:
                    bad.add(key)
                elif scored is not None and checkpoint is not None:
                    audits[key].append((number, mystery.ResultEntry(checkpoint["id"], scored, remark)))
                    auditors[key] = auditors.get(key) or text_of(cells.get("auditor"))[:60]
            if problems:
                report.rows_with_errors += 1
                errors.extend(problems[:MAX_REPORTED_ERRORS - len(errors)])
            if progress is not None and report.rows % PROGRESS_ROWS == 0:
                await progress(report.rows, 0, report.rows_with_errors)
    if progress is not None:
        await progress(report.rows, 0, report.rows_with_errors)
    report.errors = errors
    valid = {key: rows for key, rows in audits.items() if key not in bad and rows}
    report.skipped_audits = len(set(audits) | bad) - len(valid)
    if not report.rows:
        report.errors.append(row_error(0, "", "file", "文件中没有数据行", "The file has no data rows"))
    if report.errors and not accept_valid_rows or not valid:
        return report
    async with transaction():
        for (store_id, day), rows in sorted(valid.items()):
            audit = await mystery.record_audit(
                actor=actor, store_id=store_id, audited_on=day, results=[r for _, r in rows],
                auditor=auditors.get((store_id, day), ""), replace=True,
            )
            report.rows_imported += len(rows)
            report.audits.append(ImportedAudit(
                store_id=store_id, audited_on=day, scored=audit["scored"], lost=audit["lost"],
                score_rate=audit["score_rate"], multiplier=audit["multiplier"],
            ))
    report.imported = True
    return report

