"""Lists (列表): one page with the total, sorted by an allowed column, and the export of exactly what is shown.

Every list of the product is defined once by a `ListSpec`: the sort keys a reader may ask for (each names
the columns it orders by), the default order and the page size. A request becomes a `ListQuery` through
`ListSpec.parse`, which refuses what the list does not offer: an unknown sort key, a page below 1 or a page
size outside the bounds answer 400 with a field message, on the API and on the pages alike (nothing is
silently replaced by a default). A page past the last one is empty and says the total, as it would be for
a list that shrank since the link was made.

`fetch` runs the count and the page in SQL (COUNT, ORDER BY, LIMIT/OFFSET) on queries the caller has
already built on its scope, so a row of another store never appears and never counts. `export_rows` reads
every page of the same query, in the same order, for the XLSX/CSV export (`to_csv`, `to_xlsx`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Generic, TypeVar

import msgspec
from openpyxl import Workbook
from piccolo.query import OrderByRaw

from tenants.errors import FieldProblem, InvalidInput

T = TypeVar("T")

MIN_PAGE_SIZE = 1
MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000
EXPORT_LIMIT = 10_000  # rows in one export; the reader narrows the filters for more
SORT_PARAM, PAGE_PARAM, SIZE_PARAM = "sort", "page", "page_size"


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list: the envelope of every list the API answers."""

    items: list[T]
    total: int  # rows the filters keep, over all pages
    page: int
    page_size: int
    pages: int  # at least 1, so that an empty list is "page 1 of 1"
    sort: str  # the order applied: a sort key, "-key" for descending


@dataclass(frozen=True)
class ListQuery:
    """A list request once checked: which page, how many rows, in which order."""

    page: int
    page_size: int
    sort: str  # an allowed key
    descending: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def token(self) -> str:
        """The sort as the URL carries it: `key` or `-key`."""
        return f"-{self.sort}" if self.descending else self.sort

    def page_of(self, items: list[T], total: int) -> Page[T]:
        return Page(items=items, total=total, page=self.page, page_size=self.page_size,
                    pages=max(1, -(-total // self.page_size)), sort=self.token)


@dataclass(frozen=True)
class Reverse:
    """A column of a sort key that runs against the key's direction (newest first inside "earliest deadline")."""

    column: Any


@dataclass(frozen=True)
class ListSpec:
    """One list's rules: `sorts` maps each allowed key to the columns (or SQL expressions) it orders by."""

    name: str  # also the name of its export files
    sorts: Mapping[str, Sequence[Any]]
    default_sort: str  # a key, "-key" for descending
    tiebreak: Any  # a unique column (the id), last in every order, so that pages never overlap
    page_size: int = 50

    def parse(self, *, sort: str | None = None, page: Any = None, page_size: Any = None) -> ListQuery:
        """The request's sort, page and page size, checked; every bad one named at once (400)."""
        problems: list[FieldProblem] = []
        token = (sort or "").strip() or self.default_sort
        key = token.removeprefix("-")
        if key not in self.sorts:
            problems.append(FieldProblem(SORT_PARAM, f"不能按“{key}”排序，可选：{'、'.join(self.sorts)}",
                             f"Cannot sort by '{key}'; choose one of: {', '.join(self.sorts)}"))
        number = _whole(page, 1)
        if number is None or not 1 <= number <= MAX_PAGE:
            problems.append(FieldProblem(PAGE_PARAM, f"页码须为 1 至 {MAX_PAGE} 的整数",
                                         f"The page must be a whole number from 1 to {MAX_PAGE}"))
        size = _whole(page_size, self.page_size)
        if size is None or not MIN_PAGE_SIZE <= size <= MAX_PAGE_SIZE:
            problems.append(FieldProblem(SIZE_PARAM, f"每页条数须为 {MIN_PAGE_SIZE} 至 {MAX_PAGE_SIZE} 的整数",
                             f"The page size must be a whole number from {MIN_PAGE_SIZE} to {MAX_PAGE_SIZE}"))
        if problems:
            raise InvalidInput(problems)
        return ListQuery(page=number, page_size=size, sort=key, descending=token.startswith("-"))  # type: ignore[arg-type]

    def ordered(self, query: Any, want: ListQuery) -> Any:
        """`query` in the requested order, the id last (in the same direction) to keep pages stable."""
        for column in [*self.sorts[want.sort], self.tiebreak]:
            ascending = not want.descending
            if isinstance(column, Reverse):
                column, ascending = column.column, not ascending
            query = query.order_by(OrderByRaw(column) if isinstance(column, str) else column, ascending=ascending)
        return query


async def fetch(spec: ListSpec, want: ListQuery, *, rows: Any, count: Any) -> tuple[list[dict[str, Any]], int]:
    """One page of `rows` (a scoped select) and the total of `count` (the same filters, a scoped COUNT)."""
    total = await count
    if want.offset >= total:
        return [], total
    return await spec.ordered(rows, want).limit(want.page_size).offset(want.offset), total


async def fetch_page(spec: ListSpec, want: ListQuery | None, *, rows: Any, count: Any,
                     item: Callable[[dict[str, Any]], T]) -> Page[T]:
    """`fetch` made a page, each row made an item by `item`. With `want` None, every row in the list's default
    order, on one page: for a page that shows a record's whole collection (a complaint's timeline)."""
    if want is None:
        want = spec.parse()
        return whole([item(r) for r in await spec.ordered(rows, want)], sort=want.token)
    found, total = await fetch(spec, want, rows=rows, count=count)
    return want.page_of([item(r) for r in found], total)


def whole(items: list[T], *, sort: str) -> Page[T]:
    """A small collection of fixed size (a store's staff, the rules, the channels) in the envelope of every list:
    all of it on page 1, so that integrators meet one shape whatever the list."""
    return Page(items=items, total=len(items), page=1, page_size=max(1, len(items)), pages=1, sort=sort)


def page_in_memory(spec: ListSpec, want: ListQuery, items: Sequence[T]) -> Page[T]:
    """One page of a list built in Python (the items behind a dashboard figure). Its `spec.sorts` name functions
    of an item instead of columns, the tiebreak too; an empty value sorts as the largest."""
    keys = [*spec.sorts[want.sort], spec.tiebreak]
    ordered = sorted(items, key=lambda item: tuple(_sortable(key(item)) for key in keys), reverse=want.descending)
    return want.page_of(ordered[want.offset:want.offset + want.page_size], len(items))


async def export_rows(spec: ListSpec, want: ListQuery, *, rows: Any, limit: int = EXPORT_LIMIT
                      ) -> list[dict[str, Any]]:
    """Every row of the list as shown (same filters, same order), at most `limit`."""
    return await spec.ordered(rows, want).limit(limit)


@dataclass(frozen=True)
class Column:
    """One column of an export: its heading and how a shown row gives its cell."""

    zh: str
    en: str
    value: Callable[[Any], Any]


def to_csv(columns: Sequence[Column], items: Sequence[Any], *, zone: tzinfo, english: bool = False) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text as it is."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.en if english else c.zh for c in columns])
    writer.writerows([_cell(c.value(item), zone) for c in columns] for item in items)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[Column], items: Sequence[Any], *, title: str, zone: tzinfo, english: bool = False
            ) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([c.en if english else c.zh for c in columns])
    for item in items:
        sheet.append([_cell(c.value(item), zone) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any, zone: tzinfo) -> Any:
    """Numbers stay numbers; times on the reader's wall clock as the page shows them; the rest is text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return value
    return str(value)


def _whole(raw: Any, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _sortable(value: Any) -> tuple[bool, Any]:
    return value is None, value
