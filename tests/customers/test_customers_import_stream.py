"""An import file is read as a stream (issue 15): its rows are parsed as they are read, so reading a large
file holds a few rows in memory, never the whole file, its decoded text or its grid of cells."""

from __future__ import annotations

import csv
import tracemalloc

from openpyxl import Workbook

from crm.customers.importer import read_sheet

ROWS = 60_000


def _large_csv(path, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["客户姓名", "手机", "车架号", "地址"])
        for n in range(ROWS):
            writer.writerow([f"客户{n}", f"139{n:08d}", f"LSVAB2BR5NN{n:06d}", "上海市徐汇区漕溪北路" + "号" * 20])


def _read_all(path, filename: str) -> tuple[int, int, str]:
    """Rows read and the peak of memory allocated while reading them."""
    with path.open("rb") as file:
        tracemalloc.start()
        try:
            with read_sheet(filename=filename, content=file) as sheet:
                count = sum(1 for _ in sheet.rows)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return count, peak, sheet.encoding


def test_a_large_csv_is_read_a_row_at_a_time_in_utf8_and_gbk(tmp_path):
    for encoding, shown in (("utf-8", "utf-8"), ("gb18030", "gbk")):
        path = tmp_path / f"customers-{encoding}.csv"
        _large_csv(path, encoding)
        assert path.stat().st_size > 6_000_000
        count, peak, found = _read_all(path, "customers.csv")
        assert (count, found) == (ROWS, shown)
        assert peak < 2_000_000, f"{encoding}: {peak} bytes held while reading {path.stat().st_size}"


def test_a_large_xlsx_is_read_in_read_only_mode(tmp_path):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(["客户姓名", "手机", "车架号"])
    for n in range(20_000):
        sheet.append([f"客户{n}", f"139{n:08d}", f"LSVAB2BR5NN{n:06d}"])
    path = tmp_path / "customers.xlsx"
    workbook.save(path)
    count, peak, _ = _read_all(path, "customers.xlsx")
    assert count == 20_000 and peak < 5_000_000, peak


def test_bytes_still_work_for_small_files():
    with read_sheet(filename="a.csv", content="客户姓名,手机\n张三,13900000000\n".encode()) as sheet:
        assert sheet.header == ["客户姓名", "手机"] and list(sheet.rows) == [(2, ["张三", "13900000000"])]
