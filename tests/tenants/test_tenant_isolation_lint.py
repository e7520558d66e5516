"""租户隔离 (tenant isolation), checked by the build: a query on a store-owned table goes through the scope.

A *store-owned table* is any Piccolo table with both a `group` and a `store` column. They are found by
importing the apps of `piccolo_conf.APP_REGISTRY`, so a new table is covered the day its app is registered.
Tables whose `store` may be NULL (users, timers, notifications, settings of a group or one store) count
too; their queries mostly carry a reason, because `actor.filter` would drop the group-level rows.

In `api/`, `crm/` and `workers/`, every query on such a table — `T.select(`, `T.objects(`, `T.update(`,
`T.delete(`, `T.count(`, `T.exists(`, `T.raw(` (and raw SQL naming the table) — must be the query
the scope restricts:

    rows = await actor.filter(Vehicle.select(), Vehicle).where(Vehicle.customer == customer_id)
    vehicle = await actor.get(Vehicle, vehicle_id)

A sub-query inside `.where(...)` is a query of its own and needs its own `actor.filter`.
`actor.filter_group(...)` does not count: it keeps the group but not the store.

Where the scope cannot apply, the query carries a reviewed escape hatch: a comment `# tenant: <why>`
on the statement that holds the query, or in the comment lines just above it. The reason says what
keeps the query inside one tenant — typically ids that a scoped lookup just returned, or worker/timer
code without a user that restricts by the timer row's group and store:

    await Sale.update(values).where(Sale.id == sale_id)  # tenant: id checked with actor.get above
    # tenant: timer handler (no user): restricted by the timer row's group and store
    complaint = await Complaint.objects().where(Complaint.id == timer.subject_id, ...)

`grep -rn "# tenant:" api crm workers` lists every reviewed exception.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from piccolo.table import Table

ROOT = Path(__file__).resolve().parents[2]
CHECKED_PACKAGES = ("api", "crm", "workers")
QUERY_METHODS = frozenset({"select", "objects", "update", "delete", "count", "exists", "raw"})
SCOPE_NAMES = frozenset({"actor", "scope"})
# A query built on a variable (`table.update(...)`) is recognised by what is chained on it.
PICCOLO_CHAIN = frozenset(
    {"where", "first", "returning", "on_conflict", "order_by", "group_by", "limit", "offset", "output", "run"}
)
MARKER = re.compile(r"#\s*tenant:(.*)$")
ANY_TABLE = "<a table passed in>"


def test_store_owned_tables_are_found_from_the_app_registry():
    names = {t.__name__ for t in store_owned_tables()}
    assert {"Customer", "Vehicle", "Sale", "ServiceVisit", "Complaint"} <= names, names


def test_every_query_on_a_store_owned_table_goes_through_the_scope():
    tables = store_owned_tables()
    findings = [f for path in checked_files() for f in check_file(path, tables)]
    if findings:
        pytest.fail(
            f"{len(findings)} {'query bypasses' if len(findings) == 1 else 'queries bypass'} the tenant scope:\n"
            + "\n".join(f"  {f}" for f in findings)
            + "\n\nRead through the scope: `actor.filter(Table.select(...), Table)` or `await actor.get(Table, id)`.\n"
            "Where the scope cannot apply (ids a scoped lookup just returned; a timer or worker without a user that\n"
            "restricts by the row's group/store), add a reviewed `# tenant: <why this stays in one tenant>` comment\n"
            "on the statement or just above it. More in tests/tenants/test_tenant_isolation_lint.py.",
            pytrace=False,
        )


# ---------------------------------------------------------------- the checker on small examples

_EXAMPLE_TABLES = """
from piccolo.columns import ForeignKey, Varchar
from piccolo.table import Table

class Shop(Table):
    name = Varchar()

class Order(Table):
    group = ForeignKey(Shop)
    store = ForeignKey(Shop)
"""


def _check_source(source: str, tmp_path: Path, monkeypatch) -> list[Finding]:
    namespace: dict = {}
    exec(compile(_EXAMPLE_TABLES, "<example tables>", "exec"), namespace)
    module = ModuleType("example")
    module.__dict__.update(Order=namespace["Order"], Shop=namespace["Shop"])
    monkeypatch.setitem(sys.modules, "example", module)
    path = tmp_path / "example.py"
    path.write_text(source)
    return check_file(path, {namespace["Order"]}, module=module)


def test_lint_accepts_scoped_queries_and_marked_ones(tmp_path, monkeypatch):
    source = (
        "async def f(actor, ids, existing, values):\n"
        "    await actor.filter(Order.select(), Order).where(Order.id == 1)\n"
        "    await actor.filter(\n"
        "        Order.update({Order.name: 'x'}), Order\n"
        "    ).where(Order.id == 1)\n"
        "    await Shop.select()\n"
        "    existing.update(values)\n"
        "    await Order.select().where(Order.id.is_in(ids))  # tenant: ids from actor.filter above\n"
        "    # tenant: ids from actor.filter above\n"
        "    await Order.delete().where(Order.id.is_in(ids))\n"
        "    rows = await actor.filter_group(\n"
        "        Order.select(), Order,\n"
        "    )  # tenant: the group's rows on purpose\n"
        "    # tenant: ids from actor.filter above\n"
        "    for row in await Order.select().where(Order.id.is_in(ids)):\n"
        "        pass\n"
    )
    assert _check_source(source, tmp_path, monkeypatch) == []


def test_lint_reports_unscoped_queries_with_their_line(tmp_path, monkeypatch):
    source = (
        "async def f(actor, table: type[Table], order_id):\n"
        "    await Order.select().where(Order.id == order_id)\n"
        "    await actor.filter(Order.select().where(Order.id.is_in(Order.select(Order.id))), Order)\n"
        "    await actor.filter_group(Order.count(), Order)\n"
        "    await Order.update({}).where(Order.id == order_id)  # tenant:\n"
        "    await table.exists()\n"
        "    for t in (Shop, Order):\n"
        "        await t.delete().where(t.id == order_id)\n"
        "    await Shop.raw('SELECT * FROM \"order\" WHERE id = {}', order_id)\n"
        "    from example import Order as O\n"
        "    await O.exists().where(O.id == order_id)\n"
    )
    assert [(f.line, f.message) for f in _check_source(source, tmp_path, monkeypatch)] == [
        (2, "Order.select(...) is not restricted by the tenant scope"),
        (3, "Order.select(...) is not restricted by the tenant scope"),
        (4, "Order.count(...) is not restricted by the tenant scope"),
        (5, "Order.update(...): `# tenant:` needs a reason"),
        (6, f"{ANY_TABLE}.exists(...) is not restricted by the tenant scope"),
        (8, "Order.delete(...) is not restricted by the tenant scope"),
        (9, "Shop.raw(...) on order is not restricted by the tenant scope"),
        (11, "Order.exists(...) is not restricted by the tenant scope"),
    ]


# ---------------------------------------------------------------- the checker


def store_owned_tables() -> set[type[Table]]:
    """Every registered table with a `group` and a `store` column."""
    from piccolo_conf import APP_REGISTRY

    return {
        table
        for config in APP_REGISTRY.app_configs.values()
        for table in config.table_classes
        if {"group", "store"} <= {column._meta.name for column in table._meta.columns}
    }


def checked_files() -> list[Path]:
    return sorted(
        path
        for package in CHECKED_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "piccolo_migrations" not in path.parts
    )


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


def check_file(path: Path, tables: set[type[Table]], module: ModuleType | None = None) -> list[Finding]:
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    if module is None:
        # The module's own globals tell what a name is (`Customer`, an alias, `tables.Sale`), as Python sees it.
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"))
    return _FileChecker(path, tree, module, tables, _comments(source)).findings()


class _FileChecker:
    def __init__(self, path, tree, module, tables, comments):
        self.path, self.tree, self.module, self.tables, self.comments = path, tree, module, tables, comments
        self.parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        self.table_names = {t._meta.tablename: t for t in tables}

    def findings(self) -> list[Finding]:
        scoped = self._scoped_queries()
        found = []
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            if call.func.attr not in QUERY_METHODS or call in scoped:
                continue
            label = self._query_on_store_owned_table(call)
            if label is None:
                continue
            marker = self._marker(call)
            if marker is None:
                found.append(Finding(self.path, call.lineno, f"{label} is not restricted by the tenant scope"))
            elif not marker:
                found.append(Finding(self.path, call.lineno, f"{label}: `# tenant:` needs a reason"))
        return sorted(found, key=lambda f: f.line)

    def _scoped_queries(self) -> set[ast.Call]:
        """Queries that are the first argument of `actor.filter(query, Table)` for their own table."""
        scoped = set()
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and _is_scope_filter(node.func) and len(node.args) == 2):
                continue
            query = _chain_root(node.args[0])
            if query is not None and ast.unparse(query.func.value) == ast.unparse(node.args[1]):
                scoped.add(query)
        return scoped

    def _query_on_store_owned_table(self, call: ast.Call) -> str | None:
        """How to name the query in a finding (`Customer.select(...)`), or None if it reads no store-owned table."""
        method = call.func.attr
        if method == "raw" and call.args and isinstance(call.args[0], ast.Constant):
            named = self._tables_in_sql(str(call.args[0].value))
            if named:
                return f"{ast.unparse(call.func)}(...) on {', '.join(named)}"
        dotted = ast.unparse(call.func.value)
        head, _, rest = dotted.partition(".")
        function = self._function_binding(call, head)
        if function is None:
            table = self._table_named(self.module, dotted)
        elif head in _local_imports(function):
            table = self._table_named(_local_imports(function)[head], rest)
        else:
            table = self._local_table(call, function, head)
        return None if table is None else f"{table}.{method}(...)"

    def _local_table(self, call: ast.Call, function, name: str) -> str | None:
        """A variable holding a table: a loop over listed tables, a `type[...]` parameter, or a Piccolo chain."""
        for loop in ast.walk(function):
            if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == name:
                if isinstance(loop.iter, (ast.Tuple, ast.List)):
                    owned = [self._table_named(self.module, ast.unparse(e)) for e in loop.iter.elts]
                    return "/".join(filter(None, owned)) or None
        for arg in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]:
            if arg.arg == name and arg.annotation is not None and "type[" in ast.unparse(arg.annotation):
                return ANY_TABLE
        parent = self.parents.get(call)
        chained = isinstance(parent, ast.Attribute) and parent.attr in PICCOLO_CHAIN
        return ANY_TABLE if chained or call.func.attr in ("select", "objects") else None

    def _table_named(self, start: object, dotted: str) -> str | None:
        """The name of the store-owned table that `dotted` names, looked up from `start` (a module), or None."""
        value = start
        for part in filter(None, dotted.split(".")):
            if not part.isidentifier():
                return None
            value = getattr(value, part, None)
        return value.__name__ if inspect.isclass(value) and value in self.tables else None

    def _tables_in_sql(self, sql: str) -> list[str]:
        return [name for name in sorted(self.table_names) if re.search(rf"\b{re.escape(name)}\b", sql)]

    def _function_binding(self, node: ast.AST, name: str):
        """The innermost function around `node` in which `name` is a local variable, or None (a module name)."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and name in _local_names(node):
                return node
        return None

    def _marker(self, call: ast.Call) -> str | None:
        """The reason given by a `# tenant:` comment on the query's statement or just above it; None if absent."""
        first, last = self._statement_lines(call)
        candidates = list(range(first, last + 1))
        above = first - 1
        while above in self.comments and self.comments[above].own_line:
            candidates.append(above)
            above -= 1
        for line in candidates:
            match = MARKER.search(self.comments[line].text) if line in self.comments else None
            if match:
                return match.group(1).strip()
        return None

    def _statement_lines(self, node: ast.AST) -> tuple[int, int]:
        """The lines of the statement holding `node`; of a `for`/`if`/`with`… only its header."""
        while not isinstance(node, ast.stmt):
            node = self.parents[node]
        body = getattr(node, "body", None)
        if isinstance(body, list) and body:
            return node.lineno, max(node.lineno, body[0].lineno - 1)
        return node.lineno, node.end_lineno or node.lineno


@dataclass(frozen=True)
class _Comment:
    text: str
    own_line: bool


def _comments(source: str) -> dict[int, _Comment]:
    lines = source.splitlines()
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            comments[row] = _Comment(token.string, not lines[row - 1][:col].strip())
    return comments


def _is_scope_filter(func: ast.expr) -> bool:
    """`actor.filter` / `scope.filter`, also as an attribute (`self.actor.filter`)."""
    if not (isinstance(func, ast.Attribute) and func.attr == "filter"):
        return False
    owner = func.value
    name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
    return name in SCOPE_NAMES


def _chain_root(expr: ast.expr) -> ast.Call | None:
    """The `Table.method(...)` call a chain `Table.select(...).where(...)...` starts with."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        if expr.func.attr in QUERY_METHODS and not isinstance(expr.func.value, ast.Call):
            return expr
        expr = expr.func.value
    return None


def _local_names(function) -> set[str]:
    """Names bound inside a function: its parameters, what it assigns or loops over, what it imports."""
    args = function.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names | set(_local_imports(function))


def _local_imports(function) -> dict[str, object]:
    """What a function imports for itself (`from crm.complaints.tables import Complaint` inside it)."""
    imported: dict[str, object] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            module = importlib.import_module(node.module)
            imported |= {a.asname or a.name: getattr(module, a.name, None) for a in node.names}
        elif isinstance(node, ast.Import):
            for a in node.names:
                name = a.asname or a.name.partition(".")[0]
                imported[name] = importlib.import_module(a.name if a.asname else name)
    return imported
