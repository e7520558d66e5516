"""The list mechanism (`crm.lists`) on the HTTP edge: the query parameters of every list, the URL that keeps a
list's filters, sort and page (bookmarkable; htmx pushes it), and the export answer.

API routes take `sort`, `page` and `page_size` as `SortParam`, `PageParam`, `PageSizeParam` and answer a
`crm.lists.Page`; pages build a `ListView` for the macros in `_list.html` (sortable headings, the total, the
pager, the export links). A list and its export read their filters once, with `filtered_by`.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Response
from litestar.params import Parameter

from api.params import NO_NUL
from crm import lists

SortParam = Annotated[str, Parameter(
    max_length=40, pattern=NO_NUL, description="Sort key of the list, `-key` for descending; unknown keys are 400.")]
PageParam = Annotated[int, Parameter(ge=1, le=lists.MAX_PAGE, description="Page number, from 1.")]
PageSizeParam = Annotated[int | None, Parameter(
    ge=lists.MIN_PAGE_SIZE, le=lists.MAX_PAGE_SIZE, description="Rows per page (the list's default when omitted).")]
FormatParam = Annotated[str, Parameter(pattern="^(csv|xlsx)$", description="`xlsx` (default) or `csv`.")]

Handler = TypeVar("Handler", bound=Callable[..., Any])

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def filtered_by(build: Callable[..., Any]) -> Callable[[Handler], Handler]:
    """A list handler's `filters`, read from the query by `build` (the list's filter struct from its query
    parameters), so that the list and its export declare them once.

    `build`'s parameters take the place of `filters` in the handler's signature: Litestar reads, validates and
    documents them as the handler's own (every bad parameter named at once, by the name the client sent) and the
    handler gets `build(...)`. A parameter of both (`actor`) goes to both."""
    given = inspect.signature(build).parameters
    given_types = typing.get_type_hints(build, include_extras=True)

    def decorate(handler: Handler) -> Handler:
        own = inspect.signature(handler).parameters
        types = {name: kind for name, kind in typing.get_type_hints(handler, include_extras=True).items()
                 if name != "filters"}
        parameters = []
        for name, parameter in own.items():
            spliced = [p for p in given.values() if p.name not in own] if name == "filters" else [parameter]
            parameters += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in spliced]

        @functools.wraps(handler)
        async def with_filters(**values: Any) -> Any:
            filters = build(**{name: values[name] for name in given})
            return await handler(**{name: value for name, value in values.items() if name in own}, filters=filters)

        with_filters.__signature__ = inspect.signature(handler).replace(parameters=parameters)  # type: ignore[attr-defined]
        with_filters.__annotations__ = {**given_types, **types}
        return with_filters  # type: ignore[return-value]

    return decorate


@dataclass
class ListView:
    """A list page's state for its template: the page shown and how to link to another sort, page or export."""

    path: str
    spec: lists.ListSpec
    want: lists.ListQuery
    found: lists.Page[Any]
    filters: Mapping[str, Any] = field(default_factory=dict)  # as the URL carries them
    export_path: str | None = None

    def url(self, **changes: Any) -> str:
        """This list's URL with `changes`; defaults and empty values are left out, so the URLs stay short."""
        state: dict[str, Any] = {**self.filters, "sort": self.want.token, "page": self.want.page,
                                 "page_size": self.want.page_size, **changes}
        defaults = {"sort": self.spec.default_sort, "page": 1, "page_size": self.spec.page_size}
        kept = {k: v for k, v in state.items() if v not in (None, "", False) and defaults.get(k) != v}
        return self.path + ("?" + urlencode(kept) if kept else "")

    def sort_url(self, key: str) -> str:
        """Sort by `key`: ascending first, a second click descending; back to page 1."""
        token = f"-{key}" if self.want.sort == key and not self.want.descending else key
        return self.url(sort=token, page=1)

    def sort_state(self, key: str) -> str:
        """`aria-sort` of the column."""
        if self.want.sort != key:
            return "none"
        return "descending" if self.want.descending else "ascending"

    def page_url(self, page: int) -> str:
        return self.url(page=page)

    def export_url(self, format: str) -> str:
        kept = {k: v for k, v in {**self.filters, "sort": self.want.token}.items() if v not in (None, "", False)}
        return f"{self.export_path}?{urlencode({**kept, 'format': format})}"


def export_response(columns: Sequence[lists.Column], items: Sequence[Any], *, format: str, name: str,
                    zone: tzinfo, english: bool = False) -> Response:
    """The rows as an XLSX workbook or a CSV file, named after the list."""
    if format == "csv":
        body = lists.to_csv(columns, items, zone=zone, english=english)
    else:
        body = lists.to_xlsx(columns, items, title=name, zone=zone, english=english)
    return Response(content=body, media_type=EXPORT_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="{name}.{format}"'})
