"""The tenant scope: the only way services read or write store and group data.

A `Scope` is built once per request from the signed-in user, or with
`Scope.system(group_id, store_id)` from a row's own group and store for jobs,
timers and signal handlers. Services build their queries on it —
`actor.select(Table, ...)`, `actor.objects(Table)`, `actor.update(Table, values)`,
`actor.delete(Table)`, `actor.exists(Table)`, `actor.count(Table)` — so the
tenant filter is part of the query from its first line, then chain `.where(...)`.
The hottest reads (a record by id, a customer's history) use `actor.row(Table, id)`
and `actor.rows(Rows(...), values)`: the same filter, compiled to SQL once.
A row outside the scope is reported as `NotFound`, exactly like a row that does
not exist, so ids of other tenants leak nothing.

Store-owned tables (columns `group` and `store`) are restricted to the scope's
group and stores; group-owned tables (`group`, no `store`) to its group.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from crm.privacy import vault
from crm.settings import get_settings

from tenants.errors import Forbidden, NotFound
from tenants.roles import GROUP_ROLES, Role
from tenants.tables import DealerGroup, Store, User, UserRole

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
    # A system scope of a whole group (a job for a row whose store may have changed): every store of the group.
    whole_group: bool = False
    # Signed in with an activation or a temporary password: nothing but choosing a new password until done.
    must_change_password: bool = False

    @classmethod
    def system(cls, group_id: int | None, store_id: int | None = None) -> Scope:
        """The scope of a job, timer or signal handler (no user), made from the row's own group and store.

        Without a store it covers every store of the group (e.g. a complaint re-routed to another store).
        """
        return cls(
            user_id=0,
            group_id=group_id,
            roles=frozenset(),
            store_ids=frozenset() if store_id is None else frozenset({store_id}),
            home_store_id=store_id,
            whole_group=store_id is None,
        )

    @classmethod
    def of(cls, row: Any) -> Scope:
        """The system scope of a row already loaded (an object or a dict): its own group and store.

        A row without a store (a group-owned table) gives the group's scope; a row without a group is an error.
        """
        if isinstance(row, dict):
            return cls.system(row["group"], row.get("store"))
        return cls.system(row.group, getattr(row, "store", None))

    def group_wide(self) -> Scope:
        """This scope over every store of its group: for rows a user owns personally (their inbox) and for rows
        that follow a complaint re-routed to another store of the group."""
        return replace(self, whole_group=True)

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
        return vault.opening(query.where(table.group == (self.group_id or -1)).where(table.store.is_in(store_ids)),
                             table, _selected(query))

    def filter_group(self, query: Any, table: type[Table]) -> Any:
        """Restrict a query on a group-owned table (column `group`, no store) to this group."""
        return vault.opening(query.where(table.group == (self.group_id or -1)), table, _selected(query))

    def owns(self, table: type[Table], *, group_rows: bool = False) -> Any:
        """The condition restricting `table` to this scope.

        `group_rows` also keeps the rows of no store (settings, timers, notifications of the group itself).
        """
        in_group = table.group == (self.group_id or -1)
        if not _is_store_owned(table) or self.whole_group:
            return in_group
        in_stores = table.store.is_in(sorted(self.store_ids) or _NO_ROWS)
        if group_rows:
            in_stores = in_stores | table.store.is_null()
        return in_group & in_stores

    # Reads open the personal data they return and updates seal what they write (`crm.privacy.vault`).

    def select(self, table: type[Table], *columns: Any, group_rows: bool = False) -> Any:
        return vault.opening(table.select(*columns).where(self.owns(table, group_rows=group_rows)), table, columns)

    def objects(self, table: type[T], *prefetch: Any, group_rows: bool = False) -> Any:
        return vault.opening(table.objects(*prefetch).where(self.owns(table, group_rows=group_rows)), table)

    def update(self, table: type[Table], values: Any = None, *, group_rows: bool = False, force: bool = False,
               use_auto_update: bool = True, **kwargs: Any) -> Any:
        values = vault.sealed_values(table, {**(values or {}), **kwargs})
        return table.update(values, force=force, use_auto_update=use_auto_update).where(
            self.owns(table, group_rows=group_rows))

    def delete(self, table: type[Table], *, group_rows: bool = False) -> Any:
        return table.delete().where(self.owns(table, group_rows=group_rows))

    def exists(self, table: type[Table], *, group_rows: bool = False) -> Any:
        return table.exists().where(self.owns(table, group_rows=group_rows))

    def count(self, table: type[Table], column: Any = None, *, group_rows: bool = False, **kwargs: Any) -> Any:
        return table.count(column, **kwargs).where(self.owns(table, group_rows=group_rows))

    async def get(self, table: type[T], row_id: int) -> T:
        """One row of the scope by id, or NotFound."""
        row = await self.objects(table).where(table.id == row_id).first()
        if row is None:
            raise NotFound(table._meta.tablename)
        return row

    async def row(self, table: type[Table], row_id: int, *, connection: Any = None) -> dict[str, Any]:
        """One row of the scope by id as a dict (like `select().first()`), or NotFound; compiled once per table."""
        found = await self.rows(Rows.by_id(table), [row_id], connection=connection)
        if not found:
            raise NotFound(table._meta.tablename)
        return found[0]

    async def rows(self, read: Rows, values: Iterable[Any], *, connection: Any = None) -> list[dict[str, Any]]:
        """The rows of `read` in this scope whose `by` column is one of `values`.

        `connection` (from `reading()`) runs several reads on one pooled connection.
        """
        values = list(values)
        if not isinstance(read.table._meta.db, PostgresEngine):
            return await read.piccolo(self, values)
        in_stores = read.store_owned and not self.whole_group
        args = [self.group_id or -1, *([sorted(self.store_ids)] if in_stores else []), values]
        if connection is None:
            async with reading(read.table) as pooled:
                return read.dicts(await pooled.fetch(read.sql[in_stores], *args))
        return read.dicts(await connection.fetch(read.sql[in_stores], *args))


class Rows:
    """A scoped read compiled once: the rows (or `columns`) of `table` whose `by` column is one of some values.

    Piccolo builds a query's SQL in Python on every call (~0.3 ms a statement, more than PostgreSQL spends
    on a row by id); the hottest reads are compiled here once, with the scope's condition in the SQL and
    its group and stores as parameters (`"group" = $1 AND "store" = ANY($2)`, like `Scope.owns`), and run
    as prepared statements. `unset` keeps only the rows where that column is NULL (e.g. not cancelled);
    `order` sorts them. `nested` reads related rows in the same statement: `{"vehicles": (VEHICLES,
    Customer.id)}` adds to each row the list of VEHICLES' whole rows whose `by` equals the row's `id`,
    under the same scope (one level deep). On SQLite the same rows come from `Scope.select`.
    """

    _by_id: ClassVar[dict[type[Table], Rows]] = {}

    def __init__(self, table: type[Table], by: Column, *, columns: tuple[Column, ...] = (),
                 unset: Column | None = None, order: Column | None = None, descending: bool = False,
                 nested: dict[str, tuple[Rows, Column]] | None = None) -> None:
        self.table, self.by, self.columns, self.unset = table, by, columns, unset
        self.order, self.descending, self.nested = order, descending, nested or {}
        if any(read.columns or read.nested for read, _ in self.nested.values()):
            raise ValueError("a nested read gives whole rows, one level deep")
        self.store_owned = _is_store_owned(table) or any(read.store_owned for read, _ in self.nested.values())
        # Keyed by "restricted to the scope's stores" (a store-owned table, a scope not group-wide).
        self.sql = {
            False: f"{self._select('p', in_stores=False)} AND p.{_name(by)} = ANY($2){self._tail('p')}",
            True: f"{self._select('p', in_stores=True)} AND p.{_name(by)} = ANY($3){self._tail('p')}",
        }

    def _select(self, alias: str, *, in_stores: bool) -> str:
        """SELECT … WHERE the scope's condition; each nested read as an array of whole rows."""
        selected = [
            f"{alias}.{_name(c)}" + (f' AS "{c._meta.name}"' if c._meta.db_column_name != c._meta.name else "")
            for c in self.columns or self.table._meta.columns
        ]
        for n, (key, (read, parent_column)) in enumerate(self.nested.items()):
            child = f"{alias}{n}"
            selected.append(
                f"ARRAY(SELECT {child} {read._from(child, in_stores=in_stores)} AND {child}.{_name(read.by)} = "
                f'{alias}.{_name(parent_column)}{read._tail(child)}) AS "{key}"'
            )
        return f"SELECT {', '.join(selected)} {self._from(alias, in_stores=in_stores)}"

    def _from(self, alias: str, *, in_stores: bool) -> str:
        where = f'{alias}."group" = $1'
        if in_stores and _is_store_owned(self.table):
            where += f' AND {alias}."store" = ANY($2)'
        return f"FROM {self.table._meta.get_formatted_tablename()} {alias} WHERE {where}"

    def _tail(self, alias: str) -> str:
        unset = f" AND {alias}.{_name(self.unset)} IS NULL" if self.unset is not None else ""
        order = f" ORDER BY {alias}.{_name(self.order)}{' DESC' if self.descending else ''}" if self.order else ""
        return unset + order

    def dicts(self, records: list[Any]) -> list[dict[str, Any]]:
        """asyncpg's records as dicts (what Piccolo's select gives), nested rows included."""
        rows = [dict(r) for r in records]
        for key, (read, _) in self.nested.items():
            for row in rows:
                row[key] = read.dicts(row[key])
        return vault.open_rows(rows) if self.table._meta.tablename in vault.SEALED else rows

    @classmethod
    def by_id(cls, table: type[Table]) -> Rows:
        if table not in cls._by_id:
            cls._by_id[table] = cls(table, table.id)
        return cls._by_id[table]

    async def piccolo(self, scope: Scope, values: list[Any]) -> list[dict[str, Any]]:
        """The same read built by Piccolo (engines other than PostgreSQL)."""
        query = scope.select(self.table, *self.columns).where(self.by.is_in(values or _NO_ROWS))
        if self.unset is not None:
            query = query.where(self.unset.is_null())
        if self.order is not None:
            query = query.order_by(self.order, ascending=not self.descending)
        rows = await query
        for key, (read, parent_column) in self.nested.items():
            children: dict[Any, list[dict[str, Any]]] = {}
            keys = sorted({r[parent_column._meta.name] for r in rows} - {None})
            for child in await read.piccolo(scope, keys):
                children.setdefault(child[read.by._meta.name], []).append(child)
            for row in rows:
                row[key] = children.get(row[parent_column._meta.name], [])
        return rows


def _selected(query: Any) -> tuple:
    """The columns a Piccolo select names (none: whole rows, or not a select)."""
    delegate = getattr(query, "columns_delegate", None)
    return tuple(delegate.selected_columns) if delegate is not None else ()


def _name(column: Column) -> str:
    return f'"{column._meta.db_column_name}"'


@asynccontextmanager
async def reading(table: type[Table]) -> AsyncIterator[Any]:
    """One connection for several reads of a request: the open transaction's, else one from the pool
    (each Piccolo query takes and resets its own). None on engines other than PostgreSQL."""
    engine = table._meta.db
    if not isinstance(engine, PostgresEngine):
        yield None
        return
    transaction = engine.current_transaction.get()
    if transaction is not None:
        yield transaction.connection
    elif engine.pool is not None:
        async with engine.pool.acquire() as connection:
            yield connection
    else:
        connection = await engine.get_new_connection()
        try:
            yield connection
        finally:
            await connection.close()


def _is_store_owned(table: type[Table]) -> bool:
    return any(column._meta.name == "store" for column in table._meta.columns)


async def timezone_of(*, store: int | None = None, group: int | None = None) -> ZoneInfo:
    """The one rule for a place's timezone: a store's own, else its group's, else the configured default.

    `store=` gives the store's wall clock (opening hours, contact times); `group=` the group's (the days
    and months that reports and dashboards count in).
    """
    name = None
    if store is not None:
        row = await Store.select(Store.timezone, Store.group.timezone).where(Store.id == store).first()
        name = row and (row["timezone"] or row["group.timezone"])
    elif group is not None:
        row = await DealerGroup.select(DealerGroup.timezone).where(DealerGroup.id == group).first()
        name = row and row["timezone"]
    return ZoneInfo(name or get_settings().default_timezone)


async def scope_for_user(user_id: int) -> Scope | None:
    """Build the scope of an active user, or None if the user is gone or disabled or their group is suspended."""
    user = await User.select(User.all_columns(), User.group.active).where(
        User.id == user_id, User.active.eq(True)
    ).first()
    if user is None or user["group.active"] is False:
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
        must_change_password=user["must_change_password"],
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
