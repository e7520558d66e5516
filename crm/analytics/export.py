"""The dashboard's store table as XLSX (Chinese headers, number formats, frozen header) and as CSV.

Both carry a header line saying what the table is (group view or store view, period, filters) and are
named after the filters, e.g. `门店对比_2026-11_事业部上汽大众.xlsx`.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from crm.analytics.dashboard import StoreTable
from crm.analytics.metrics import Unit, display

_FORMATS = {Unit.PERCENT: "0.0%", Unit.COUNT: "#,##0", Unit.PER_100: "0.00", Unit.HOURS: "0.0", Unit.SCORE: "0.00",
            Unit.INDEX: "0.00", Unit.MULTIPLIER: '"×"0.00'}


def file_stem(table: StoreTable) -> str:
    """门店对比_<period>[_事业部<name>][_区域<name>]: the filters, in the file's name."""
    parts = ["门店对比", table.period_label.replace("~", "至")]
    division = next((d["name"] for d in table.divisions if d["id"] == table.division_id), None)
    region = next((r["name"] for r in table.regions if r["id"] == table.region_id), None)
    if division:
        parts.append(f"事业部{division}")
    if region:
        parts.append(f"区域{region}")
    return "_".join(p.replace("/", "-").replace(" ", "") for p in parts)


def header_line(table: StoreTable) -> str:
    view = "门店视图" if table.view == "store" else "集团门店对比"
    last = table.end - timedelta(days=1)
    text = f"{view}|统计周期 {table.period_label}（{table.start.isoformat()} 至 {last.isoformat()}）"
    stem = file_stem(table).split("_")[2:]
    if stem:
        text += "|筛选 " + "、".join(stem)
    return text + f"|门店数 {table.compared_stores}|生成于 {table.generated_at:%Y-%m-%d %H:%M} UTC"


def to_xlsx(table: StoreTable) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "门店对比"
    columns = table.columns
    sheet.append([header_line(table)])
    sheet["A1"].font = Font(bold=True)
    headers = ["门店", "品牌事业部", "区域"] + [c.label_zh for c in columns]
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E5E7EB")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in table.rows:
        sheet.append([row.store_name, row.division_name, row.region_name] + [row.values.get(c.key) for c in columns])
    for label, figures in (("集团合计", table.total), ("集团平均", table.average)):
        sheet.append([label, "", ""] + [figures.get(c.key) for c in columns])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=4):
        letter = get_column_letter(index)
        for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
            cell.number_format = _FORMATS[Unit(column.unit)]
        sheet.column_dimensions[letter].width = 14
    sheet.column_dimensions["A"].width = 28
    sheet.freeze_panes = "B3"  # the header row and the store names stay in view
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(table: StoreTable) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly; figures as displayed."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header_line(table)])
    writer.writerow(["门店", "品牌事业部", "区域"] + [c.label_zh for c in table.columns])
    for row in table.rows:
        writer.writerow([row.store_name, row.division_name, row.region_name]
                        + [display(row.values.get(c.key), c.unit) for c in table.columns])
    for label, figures in (("集团合计", table.total), ("集团平均", table.average)):
        writer.writerow([label, "", ""] + [display(figures.get(c.key), c.unit) for c in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
