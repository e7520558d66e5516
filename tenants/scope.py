"""The tenant scope: the only way services read or write store data.

A `Scope` is built once per request (or job) from the signed-in user. Services
pass their queries through `scope.filter(...)` or fetch rows with
`scope.get(...)`; a row outside the scope is reported as `NotFound`, exactly
like a row that does not exist, so ids of other tenants leak nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from piccolo.table import Table

from tenants.errors import Forbidden, NotFound
from tenants.roles import GROUP_ROLES, Role
from tenants.tables import Store, User, UserRole

T = TypeVar("T", bound=Table)

# `is_in([])` is not valid SQL; an id that never exists keeps an empty scope a valid, empty query.
_NO_ROWS = [-1]


@dataclass(frozen=True)
class Scope:
    user_id: int
    group_id: int | None
    roles: frozenset[Role]
    store_ids: frozenset[int]
    home_store_id: int | None = None
    brand_division_id: int | None = None
    display_name: str = ""

    @property
    def is_group_level(self) -> bool:
        """Group HQ, call center and brand division see many stores; store staff see one."""
        return bool(self.roles & GROUP_ROLES)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def require_role(self, *roles: Role) -> None:
        if not self.has_role(*roles):
            raise Forbidden()

    def can_see_store(self, store_id: int | None) -> bool:
        return store_id is not None and store_id in self.store_ids

    def require_store(self, store_id: int | None) -> int:
        """The store id if the caller may see it, else NotFound (never Forbidden: no leak)."""
        if not self.can_see_store(store_id):
            raise NotFound("store")
        return int(store_id)  # type: ignore[arg-type]

    def filter(self, query: Any, table: type[Table]) -> Any:
        """Restrict a Piccolo query on a store-owned table (columns `group`, `store`) to this scope."""
        store_ids = sorted(self.store_ids) or _NO_ROWS
        return query.where(table.group == (self.group_id or -1)).where(table.store.is_in(store_ids))

    def filter_group(self, query: Any, table: type[Table]) -> Any:
        """Restrict a query on a group-owned table (column `group`, no store) to this group."""
        return query.where(table.group == (self.group_id or -1))

    async def get(self, table: type[T], row_id: int) -> T:
        """One store-owned row by id, or NotFound."""
        row = await self.filter(table.objects(), table).where(table.id == row_id).first()
        if row is None:
            raise NotFound(table._meta.tablename)
        return row


async def scope_for_user(user_id: int) -> Scope | None:
    """Build the scope of an active user, or None if the user is gone or disabled."""
    user = await User.select().where(User.id == user_id, User.active.eq(True)).first()
    if user is None:
        return None
    roles = frozenset(
        Role(r["role"]) for r in await UserRole.select(UserRole.role).where(UserRole.user == user_id)
    )
    group_id = user["group"]
    store_ids: frozenset[int] = frozenset()
    if group_id is not None:
        if roles & GROUP_ROLES:
            query = Store.select(Store.id).where(Store.group == group_id)
            if user["brand_division"] is not None:
                query = query.where(Store.brand_division == user["brand_division"])
            store_ids = frozenset(r["id"] for r in await query)
        elif user["store"] is not None:
            store_ids = frozenset({user["store"]})
    return Scope(
        user_id=user_id,
        group_id=group_id,
        roles=roles,
        store_ids=store_ids,
        home_store_id=user["store"],
        brand_division_id=user["brand_division"],
        display_name=user["display_name"],
    )


class TtlCache:
    """Answers of recent look-ups, kept for a few seconds.

    Resolving a caller (token → user → roles → stores) costs four queries and an
    API client makes many requests in a row. A role change, a deactivation or a
    new store takes effect within `ttl` seconds (`SCOPE_CACHE_SECONDS`; 0 turns
    caching off).
    """

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}

    async def get(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        if self.ttl <= 0:
            return await load()
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
