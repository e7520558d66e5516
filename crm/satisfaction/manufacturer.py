"""Manufacturers' satisfaction scores (厂家SSI/CSI): import per store and period, and the store's standing.

Manufacturers publish, per store and period, SSI (sales) and CSI (after-sales) with the regional and
national averages and the national rank among the stores ranked — monthly for the phone survey
(电访, period "2026-11") and quarterly for the face-to-face survey (面访, period "2026-Q4").

Import (CSV or XLSX, Chinese or English headers), one row per store, survey, period and metric. Every
row is checked and reported with its row number; a file with errors writes nothing unless
`accept_valid_rows`. A row of a store, survey, period and metric already imported replaces it, so
importing a file twice changes nothing. Run by an import job (`crm.imports`), which reads the kept file as a
stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, BinaryIO

import msgspec

from crm import clock, lists
from crm.db import transaction
from crm.satisfaction import sheets
from crm.satisfaction.sheets import (
    MAX_REPORTED_ERRORS,
    PROGRESS_ROWS,
    Progress,
    RowError,
    decimal_of,
    row_error,
    stores_by_key,
    text_of,
)
from crm.satisfaction.tables import ManufacturerScore
from tenants.errors import Forbidden
from tenants.roles import GROUP_ROLES, Role
from tenants.scope import Scope

SCORE_IMPORTERS = frozenset({Role.GROUP_ADMIN, Role.GROUP_CUSTOMER_SERVICE, Role.BRAND_MANAGER})
SCORE_READERS = frozenset(GROUP_ROLES | {Role.STORE_GM, Role.STORE_CR_MANAGER, Role.DEPARTMENT_HEAD})
SURVEYS = {"phone": ("电访", "Phone survey"), "visit": ("面访", "Face-to-face survey")}
METRICS = ("ssi", "csi")
MAX_SCORE = Decimal(1000)

ALIASES: dict[str, list[str]] = {
    "store": ["门店编码", "门店代码", "经销商代码", "门店", "门店名称", "经销商", "store", "storecode", "dealercode"],
    "survey": ["调查方式", "调查类型", "类型", "survey", "surveytype"],
    "period": ["期间", "月份", "季度", "周期", "period", "month", "quarter"],
    "metric": ["指标", "类别", "metric", "index"],
    "score": ["得分", "分数", "成绩", "score"],
    "regional_average": ["区域平均", "区域平均分", "大区平均", "regionalaverage", "regionavg", "regional"],
    "national_average": ["全国平均", "全国平均分", "nationalaverage", "nationalavg", "national"],
    "national_rank": ["全国排名", "排名", "nationalrank", "rank"],
    "stores_ranked": ["参评店数", "排名店数", "参评经销商数", "storesranked", "ranked", "outof"],
    "completion_rate": ["电访落实率", "落实率", "completionrate", "completion"],
}
REQUIRED = {"store", "survey", "period", "metric", "score"}
_SURVEY_WORDS = {"电访": "phone", "电话": "phone", "phone": "phone", "面访": "visit", "visit": "visit",
                 "face": "visit", "facetoface": "visit", "face-to-face": "visit"}


class ScoreImportReport(msgspec.Struct, kw_only=True):
    """What an import found and did. `imported` is false when nothing was written; `errors` keeps the first
    problems, `skipped` counts every refused row."""

    imported: bool
    rows: int
    written: int = 0
    replaced: int = 0
    skipped: int = 0
    errors: list[RowError] = []

    def counts(self) -> tuple[int, int, int]:
        """Rows read, imported and refused: the import job's counts."""
        return self.rows, self.written + self.replaced, self.skipped


@dataclass(frozen=True)
class _Score:
    store_id: int
    survey: str
    period: str
    metric: str
    values: dict[str, Any]

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.store_id, self.survey, self.period, self.metric)


check_file = partial(sheets.check_file, aliases=ALIASES, required=REQUIRED)


async def import_scores(
    *, actor: Scope, filename: str, content: bytes | BinaryIO, accept_valid_rows: bool = False,
    sheet: str | None = None, progress: Progress | None = None,
) -> ScoreImportReport:
    """Check every row, then write the scores in one transaction (all, or with `accept_valid_rows` the rows
    without a problem). `progress` hears the counts every `PROGRESS_ROWS` rows."""
    if not actor.has_role(*SCORE_IMPORTERS):
        raise Forbidden("无权导入厂家满意度成绩", "Your role may not import manufacturer scores")
    stores = await stores_by_key(actor)
    report = ScoreImportReport(imported=False, rows=0)
    errors: list[RowError] = []
    valid: dict[tuple, _Score] = {}
    with sheets.read_sheet(filename=filename, content=content, aliases=ALIASES, required=REQUIRED,
                           sheet=sheet) as parsed:
        for number, cells in parsed.rows:
            report.rows += 1
            score, problems = _parse_row(number, cells, parsed.columns, stores)
            if not problems and score.key in valid:
                problems.append(row_error(number, parsed.columns["metric"], "metric",
                                          "与前面的行重复（同一门店、调查、期间和指标）",
                                          "Repeats an earlier row (same store, survey, period and metric)"))
            if problems:
                errors.extend(problems[:MAX_REPORTED_ERRORS - len(errors)])
                report.skipped += 1
            else:
                valid[score.key] = score
            if progress is not None and report.rows % PROGRESS_ROWS == 0:
                await progress(report.rows, 0, report.skipped)
    if progress is not None:
        await progress(report.rows, 0, report.skipped)
    report.errors = errors
    if not report.rows:
        report.errors.append(row_error(0, "", "file", "文件中没有数据行", "The file has no data rows"))
    if (report.errors and not accept_valid_rows) or not valid:
        return report
    now = clock.now()
    async with transaction():
        for score in valid.values():
            existing = await actor.filter(ManufacturerScore.select(ManufacturerScore.id), ManufacturerScore).where(
                ManufacturerScore.store == score.store_id, ManufacturerScore.survey == score.survey,
                ManufacturerScore.period == score.period, ManufacturerScore.metric == score.metric,
            ).first()
            values = {getattr(ManufacturerScore, k): v for k, v in score.values.items()}
            if existing is not None:
                await actor.filter(
                    ManufacturerScore.update({**values, ManufacturerScore.imported_at: now}), ManufacturerScore
                ).where(ManufacturerScore.id == existing["id"])
                report.replaced += 1
            else:
                await ManufacturerScore.insert(ManufacturerScore(
                    group=actor.group_id, store=score.store_id, survey=score.survey, period=score.period,
                    metric=score.metric, imported_at=now, **score.values,
                ))
                report.written += 1
    report.imported = True
    return report


SCORE_LIST = lists.ListSpec(
    name="manufacturer_scores",
    sorts={"period": (ManufacturerScore.period, lists.Reverse(ManufacturerScore.store),
                      lists.Reverse(ManufacturerScore.metric)),
           "store": (ManufacturerScore.store.name,), "survey": (ManufacturerScore.survey,),
           "metric": (ManufacturerScore.metric,), "score": (ManufacturerScore.score,),
           "rank": (ManufacturerScore.national_rank,), "imported": (ManufacturerScore.imported_at,)},
    default_sort="-period",
    tiebreak=ManufacturerScore.id,
)


async def list_scores(
    *, actor: Scope, store_id: int | None = None, survey: str | None = None, period: str | None = None,
    want: lists.ListQuery,
) -> lists.Page[dict[str, Any]]:
    """The manufacturer scores the caller may see, a page with the total (newest period first by default)."""
    if not actor.has_role(*SCORE_READERS):
        raise Forbidden()
    where = []
    if store_id is not None:
        where.append(ManufacturerScore.store == store_id)
    if survey is not None:
        where.append(ManufacturerScore.survey == survey)
    if period is not None:
        where.append(ManufacturerScore.period == period)
    rows = actor.select(ManufacturerScore, *ManufacturerScore.all_columns(),
                        ManufacturerScore.store.name.as_alias("store_name")).where(*where)
    return await lists.fetch_page(SCORE_LIST, want, rows=rows, count=actor.count(ManufacturerScore).where(*where),
                                  item=_out)


def period_of(survey: str, value: Any) -> str | None:
    """A period in the survey's form: "2026-11" for the monthly phone survey, "2026-Q4" for the quarterly visit."""
    text = text_of(value).upper().replace(" ", "")
    if survey == "phone":
        match = re.fullmatch(r"(\d{4})[-/.年]?(\d{1,2})月?", text)
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{match.group(1)}-{int(match.group(2)):02d}"
        return None
    match = re.fullmatch(r"(\d{4})[-/年]?(?:Q|第)([1-4])(?:季度)?", text)
    return f"{match.group(1)}-Q{match.group(2)}" if match else None


def previous_period(period: str) -> str:
    year, part = period.split("-")
    if part.startswith("Q"):
        quarter = int(part[1:])
        return f"{int(year) - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    month = int(part)
    return f"{int(year) - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _parse_row(number: int, cells: dict, columns: dict[str, str], stores: dict[str, int]):
    problems: list[RowError] = []

    def problem(field: str, zh: str, en: str) -> None:
        problems.append(row_error(number, columns.get(field, field), field, zh, en))

    store_id = stores.get(text_of(cells["store"]))
    if store_id is None:
        problem("store", "门店不存在或无权访问", "Unknown store")
    survey = _SURVEY_WORDS.get(text_of(cells["survey"]).lower().replace(" ", ""))
    if survey is None:
        problem("survey", "调查方式应为“电访”或“面访”", "The survey must be phone (电访) or visit (面访)")
    period = period_of(survey, cells["period"]) if survey else None
    if survey and period is None:
        problem("period", "期间格式错误：电访按月（如 2026-11），面访按季度（如 2026-Q4）",
                "Bad period: monthly for phone surveys (2026-11), quarterly for visits (2026-Q4)")
    metric = text_of(cells["metric"]).lower()
    if metric not in METRICS:
        problem("metric", "指标应为SSI或CSI", "The metric must be SSI or CSI")
    values: dict[str, Any] = {}
    for field in ("score", "regional_average", "national_average"):
        blank = text_of(cells.get(field)) == ""
        number_ = None if blank else decimal_of(cells.get(field))
        if (field == "score" and blank) or (not blank and (number_ is None or not 0 <= number_ <= MAX_SCORE)):
            problem(field, "应为0–1000之间的数字", "Must be a number from 0 to 1000")
        values[field] = None if number_ is None else number_.quantize(Decimal("0.01"))
    for field in ("national_rank", "stores_ranked"):
        text = text_of(cells.get(field))
        if text and not (text.isdigit() and 0 < int(text) < 1_000_000):
            problem(field, "应为正整数", "Must be a positive whole number")
        values[field] = int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else None
    if values["national_rank"] and values["stores_ranked"] and values["national_rank"] > values["stores_ranked"]:
        problem("national_rank", "排名不能大于参评店数", "The rank cannot exceed the number of stores ranked")
    completion = text_of(cells.get("completion_rate"))
    rate = decimal_of(completion) if completion else None
    if completion and (rate is None or not 0 <= rate <= 100):
        problem("completion_rate", "落实率应为0–100之间的百分数", "The completion rate is a percentage from 0 to 100")
    values["completion_rate"] = None if rate is None else rate.quantize(Decimal("0.01"))
    return _Score(store_id or 0, survey or "", period or "", metric, values), problems



def _out(row: dict) -> dict[str, Any]:
    return {
        "id": row["id"], "store_id": row["store"], "store_name": row.get("store_name", ""), "survey": row["survey"],
        "period": row["period"], "metric": row["metric"], "score": _text(row["score"]),
        "regional_average": _text(row["regional_average"]), "national_average": _text(row["national_average"]),
        "national_rank": row["national_rank"], "stores_ranked": row["stores_ranked"],
        "completion_rate": _text(row["completion_rate"]),
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))
