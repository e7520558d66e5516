"""Request value types shared by the API modules: ids, paging and text that the database can hold.

PostgreSQL refuses a number outside a column's range, and any text with a NUL
character, with an error rather than an empty result: an unbounded `int` or `str`
in a path, query or body turns `/api/v1/customers/99999999999` or `?q=%00` into a
500. These types check both at the edge (400 with a field message) and show the
bounds in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import Parameter

MAX_ID = 2**31 - 1  # `Serial` and `ForeignKey` columns are PostgreSQL `integer`
MAX_BIG_ID = 2**63 - 1  # `BigSerial` columns (notifications, timers)
MAX_OFFSET = 1_000_000
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000

# Path and query parameters. An optional one carries its bounds outside the `| None`, or Litestar drops them.
IdParam = Annotated[int, Parameter(ge=1, le=MAX_ID)]
OptionalIdParam = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
StoreIdQuery = Annotated[int, Parameter(query="store_id", ge=1, le=MAX_ID)]
OptionalStoreIdQuery = Annotated[int | None, Parameter(query="store_id", required=False, ge=1, le=MAX_ID)]
BigIdParam = Annotated[int, Parameter(ge=1, le=MAX_BIG_ID)]
OptionalBigIdParam = Annotated[int | None, Parameter(ge=1, le=MAX_BIG_ID)]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET)]

# Fields of request bodies (msgspec Structs).
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


def text(max_length: int, min_length: int = 0) -> Any:
    """A body string that fits its column and that PostgreSQL can store."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=NO_NUL)]


def text_param(max_length: int) -> Any:
    """A text path or query parameter (e.g. a search term), bounded like `text`."""
    return Annotated[str, Parameter(max_length=max_length, pattern=NO_NUL)]
