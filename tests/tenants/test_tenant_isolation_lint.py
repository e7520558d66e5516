"""租户隔离 (tenant isolation), checked by the build: every query on a tenant's table is built on a scope.

A *store-owned table* has a `group` and a `store` column; a *group-owned table* a `group` column only
(customer identities with mobiles and ID numbers, channel settings with gateway secrets, policies, calendar
overrides, …). Both are found by importing the apps of `piccolo_conf.APP_REGISTRY`, so a new table is covered
the day its app is registered. The tenant directory (stores, regions, brand divisions) is left out: scopes are
built from it.

In `api/`, `crm/` and `workers/`, every query on such a table — `T.select(`, `T.objects(`, `T.update(`,
`T.delete(`, `T.count(`, `T.exists(`, `T.raw(` (and raw SQL naming the table; a raw INSERT is a write like
`T.insert(`) — must be built on a scope (`tenants.scope.Scope`), whatever the scope is called:

    rows = await actor.select(Vehicle).where(Vehicle.customer == customer_id)
    await Scope.system(group_id, store_id).update(Callback, {Callback.state: "due"}).where(Callback.id == cb_id)
    complaint = await timer.scope.objects(Complaint).where(Complaint.id == timer.subject_id).first()
    vehicle = await actor.get(Vehicle, vehicle_id)

`actor.filter(T.select(), T)` still counts; `actor.filter_group(...)` only on a group-owned table (on a
store-owned one it keeps the group but not the store). A sub-query inside `.where(...)` is a query of its own.

Where no scope can apply, the function is listed in EXCEPTIONS with a one-line reason; that short, reviewed
list is the only escape hatch (a stale entry fails the test too).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from piccolo.table import Table

ROOT = Path(__file__).resolve().parents[2]
CHECKED_PACKAGES = ("api", "crm", "workers")
QUERY_METHODS = frozenset({"select", "objects", "update", "delete", "count", "exists", "raw"})
# The query builders of `tenants.scope.Scope`: `actor.select(Table, ...)` and the like.
SCOPE_BUILDERS = frozenset({"select", "objects", "update", "delete", "count", "exists"})
# The tenant directory, from which scopes are built: stores, regions and brand divisions of a group.
DIRECTORY_TABLES = frozenset({"Store", "Region", "BrandDivision"})
# A query built on a variable (`table.update(...)`) is recognised by what is chained on it.
PICCOLO_CHAIN = frozenset(
    {"where", "first", "returning", "on_conflict", "order_by", "group_by", "limit", "offset", "output", "run"}
)
ANY_TABLE = "<a table passed in>"

# The reviewed exceptions: queries the scope cannot build, by `file:function` (or a whole `file`), each with what
# keeps it in one tenant. Every other query on an owned table is built on a scope (`actor.select(Table, ...)`,
# `Scope.system(group_id, store_id)`, `timer.scope`). Nothing else is accepted: no comment silences the lint.
EXCEPTIONS: dict[str, str] = {
    "crm/timers/runner.py": "the timer machinery: claims every tenant's due timers by id; handlers run under timer.scope",
    "crm/timers/service.py:cancel_timers": "by subject: (subject_type, subject_id) names one row of one tenant",
    "crm/timers/service.py:pending_timers": "by subject: (subject_type, subject_id) names one row of one tenant",
    "crm/notify/delivery.py:deliver": "claims one notification by the id its job carries; later writes use the row's group",
    "crm/notify/delivery.py:deliver_due": "the retry sweep: every tenant's due notifications, each then delivered by id",
    "crm/notify/inbox.py:set_preferences": "the caller's own user row, by the caller's id (a user may belong to no group)",
    "crm/callbacks/dms.py:verify": "a DMS webhook has no user: its key id names the store, the HMAC then proves the caller",
    "crm/health.py": "readiness and operators' figures: counts and ages over every tenant; no row leaves",
    "crm/reports/service.py:render_report": "the render job: the report row by the id its job carries; figures then gathered "
                                            "under the row's own system scope",
    "crm/reports/service.py:render_failed": "the render job records a failed attempt on the report row its job carries",
}


def test_owned_tables_are_found_from_the_app_registry():
    tables = owned_tables()
    store_owned = {t.__name__ for t in tables if _is_store_owned(t)}
    group_owned = {t.__name__ for t in tables if not _is_store_owned(t)}
    assert {"Customer", "Vehicle", "Sale", "ServiceVisit", "Complaint", "Timer", "Notification"} <= store_owned
    assert {"CustomerIdentity", "ChannelSetting", "ComplaintPolicy", "MajorPolicyRow", "CalendarOverride"} <= group_owned


def test_the_exceptions_stay_a_short_reviewed_list():
    assert len(EXCEPTIONS) < 15
    assert all(reason.strip() for reason in EXCEPTIONS.values())


def test_every_query_on_an_owned_table_goes_through_the_scope():
    tables = owned_tables()
    all_findings = [f for path in checked_files() for f in check_file(path, tables)]
    findings = [f for f in all_findings if not _excepted(f.where)]
    used = {key for f in all_findings for key in EXCEPTIONS if key in (f.where, f.where.partition(":")[0])}
    unused = sorted(set(EXCEPTIONS) - used)
    assert not unused, f"exceptions no longer needed (remove them from EXCEPTIONS): {unused}"
    if findings:
        pytest.fail(
            f"{len(findings)} {'query bypasses' if len(findings) == 1 else 'queries bypass'} the tenant scope:\n"
            + "\n".join(f"  {f}" for f in findings)
            + "\n\nBuild the query on the scope: `actor.select(Table, ...)`, `actor.update(Table, values)`, … or\n"
            "`await actor.get(Table, id)`. Without a user (timers, signal handlers, workers) use the row's own group\n"
            "and store: `Scope.system(group_id, store_id)`, `Scope.of(row)`, `timer.scope`. Only where no scope can\n"
            "apply, add a reviewed entry to EXCEPTIONS in tests/tenants/test_tenant_isolation_lint.py.",
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

class Rule(Table):
    group = ForeignKey(Shop)
"""


def _check_source(source: str, tmp_path: Path, monkeypatch) -> list[Finding]:
    namespace: dict = {}
    exec(compile(_EXAMPLE_TABLES, "<example tables>", "exec"), namespace)
    module = ModuleType("example")
    module.__dict__.update(Order=namespace["Order"], Shop=namespace["Shop"], Rule=namespace["Rule"])
    monkeypatch.setitem(sys.modules, "example", module)
    path = tmp_path / "example.py"
    path.write_text(source)
    return check_file(path, {namespace["Order"], namespace["Rule"]}, module=module)


def test_lint_accepts_the_scope_builders_whatever_the_scope_is_called(tmp_path, monkeypatch):
    source = (
        "async def f(who, job, group_id, values):\n"
        "    await who.select(Order, Order.id).where(Order.id == 1)\n"
        "    await who.objects(Rule).first()\n"
        "    await job.scope.update(Order, values).where(Order.id == 1)\n"
        "    await Scope.system(group_id).delete(Rule)\n"
        "    await who.filter_group(Rule.select(), Rule)\n"
        "    await who.count(Order)\n"
    )
    assert _check_source(source, tmp_path, monkeypatch) == []


def test_lint_covers_group_owned_tables(tmp_path, monkeypatch):
    source = (
        "async def f(actor, group_id):\n"
        "    await Rule.select().where(Rule.group == group_id)\n"
        "    await actor.filter_group(Order.select(), Order)\n"
        "    await Order.select(Rule.id)\n"
    )
    assert [(f.line, f.message) for f in _check_source(source, tmp_path, monkeypatch)] == [
        (2, "Rule.select(...) is not restricted by the tenant scope"),
        (3, "Order.select(...) is not restricted by the tenant scope"),
        (4, "Order.select(...) is not restricted by the tenant scope"),
    ]


def test_lint_accepts_scoped_queries(tmp_path, monkeypatch):
    source = (
        "async def f(actor, ids, existing, values, rows):\n"
        "    await actor.filter(Order.select(), Order).where(Order.id == 1)\n"
        "    await actor.filter(\n"
        "        Order.update({Order.name: 'x'}), Order\n"
        "    ).where(Order.id == 1)\n"
        "    await Shop.select()\n"
        "    existing.update(values)\n"
        "    await Order.raw('INSERT INTO \"order\" (store) SELECT * FROM unnest({})', rows)\n"
        "    for child in (Order, Rule):\n"
        "        await actor.update(child, values).where(child.id.is_in(ids))\n"
    )
    assert _check_source(source, tmp_path, monkeypatch) == []


def test_lint_reports_unscoped_queries_with_their_line(tmp_path, monkeypatch):
    source = (
        "async def f(actor, table: type[Table], order_id):\n"
        "    await Order.select().where(Order.id == order_id)\n"
        "    await actor.filter(Order.select().where(Order.id.is_in(Order.select(Order.id))), Order)\n"
        "    await actor.filter_group(Order.count(), Order)\n"
        "    await Order.update({}).where(Order.id == order_id)  # tenant: a comment silences nothing\n"
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
        (5, "Order.update(...) is not restricted by the tenant scope"),
        (6, f"{ANY_TABLE}.exists(...) is not restricted by the tenant scope"),
        (8, "Order.delete(...) is not restricted by the tenant scope"),
        (9, "Shop.raw(...) on order is not restricted by the tenant scope"),
        (11, "Order.exists(...) is not restricted by the tenant scope"),
    ]


# ---------------------------------------------------------------- the checker


def owned_tables() -> set[type[Table]]:
    """Every registered table with a `group` column: store-owned with a `store` column too, else group-owned.

    The tenant directory itself (stores, regions, brand divisions) is left out: scopes are built from it.
    """
    from piccolo_conf import APP_REGISTRY

    return {
        table
        for config in APP_REGISTRY.app_configs.values()
        for table in config.table_classes
        if "group" in {column._meta.name for column in table._meta.columns}
        and table.__name__ not in DIRECTORY_TABLES
    }


def _is_store_owned(table: type[Table]) -> bool:
    return "store" in {column._meta.name for column in table._meta.columns}


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
    where: str = ""  # `file:function`, the key of EXCEPTIONS

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
    return _FileChecker(path, tree, module, tables).findings()


def _excepted(where: str) -> bool:
    """Is `file:function` listed in EXCEPTIONS (by itself or by its whole file)?"""
    return where in EXCEPTIONS or where.partition(":")[0] in EXCEPTIONS


class _FileChecker:
    def __init__(self, path, tree, module, tables):
        self.path, self.tree, self.module, self.tables = path, tree, module, tables
        self.parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        self.table_names = {t._meta.tablename: t for t in tables}

    def findings(self) -> list[Finding]:
        scoped = self._scoped_queries()
        found = []
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            if call.func.attr not in QUERY_METHODS or call in scoped or self._is_scope_builder(call):
                continue
            label = self._query_on_store_owned_table(call)
            if label is None:
                continue
            found.append(Finding(self.path, call.lineno, f"{label} is not restricted by the tenant scope",
                                 self._where(call)))
        return sorted(found, key=lambda f: f.line)

    def _where(self, node: ast.AST) -> str:
        """`file:function` of the innermost function around `node` (the key of EXCEPTIONS)."""
        function = "<module>"
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function = node.name
                break
        try:
            shown = self.path.relative_to(ROOT).as_posix()
        except ValueError:
            shown = self.path.name
        return f"{shown}:{function}"

    def _scoped_queries(self) -> set[ast.Call]:
        """Queries that are the first argument of `actor.filter(query, Table)` for their own table.

        `filter_group` restricts a group-owned table only: on a store-owned one it keeps the group, not the store.
        """
        scoped = set()
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and len(node.args) == 2):
                continue
            if node.func.attr not in ("filter", "filter_group"):
                continue
            query = _chain_root(node.args[0])
            if query is None or ast.unparse(query.func.value) != ast.unparse(node.args[1]):
                continue
            table = self._table_of(node, node.args[1])
            if node.func.attr == "filter" or (table is not None and not _is_store_owned(table)):
                scoped.add(query)
        return scoped

    def _is_scope_builder(self, call: ast.Call) -> bool:
        """`actor.select(Customer, ...)`, `Scope.system(g, s).update(Sale, ...)`: a query built on a scope.

        A Piccolo query starts on the table (`Customer.select(Customer.name)`); a scope's builder takes the
        table as its first argument, whatever the scope is called.
        """
        if call.func.attr not in SCOPE_BUILDERS or not call.args:
            return False
        table = call.args[0]
        names_table = self._table_of(call, table) is not None or self._is_table_parameter(call, table)
        return names_table and self._table_of(call, call.func.value) is None

    def _is_table_parameter(self, node: ast.AST, expr: ast.expr) -> bool:
        """A parameter annotated `type[...]`: a table passed in (`store.update(table, values)`)."""
        if not isinstance(expr, ast.Name):
            return False
        function = self._function_binding(node, expr.id)
        if function is None or isinstance(function, ast.Lambda):
            return False
        return any(
            arg.arg == expr.id and arg.annotation is not None and "type[" in ast.unparse(arg.annotation)
            for arg in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        )

    def _table_of(self, node: ast.AST, expr: ast.expr) -> type[Table] | None:
        """The owned table an expression names (`Customer`, `tables.Sale`, a local import), or None."""
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        dotted = ast.unparse(expr)
        head, _, rest = dotted.partition(".")
        function = self._function_binding(node, head)
        if function is None:
            return self._table_class(self.module, dotted)
        if head in _local_imports(function):
            return self._table_class(_local_imports(function)[head], rest)
        for loop in ast.walk(function):  # `for child in (Appeal, Compensation): actor.update(child, ...)`
            if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == dotted:
                if isinstance(loop.iter, (ast.Tuple, ast.List)):
                    owned = [self._table_class(self.module, ast.unparse(e)) for e in loop.iter.elts]
                    return owned[0] if owned and all(owned) else None
        return None

    def _query_on_store_owned_table(self, call: ast.Call) -> str | None:
        """How to name the query in a finding (`Customer.select(...)`), or None if it reads no store-owned table."""
        method = call.func.attr
        sql = self._sql_text(call, call.args[0]) if method == "raw" and call.args else None
        if sql is not None and sql.lstrip().upper().startswith("INSERT"):
            return None  # a bulk insert writes the rows it is given, like `Table.insert(...)`; it reads nothing
        if sql is not None and isinstance(call.args[0], ast.Constant):
            named = self._tables_in_sql(sql)
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

    def _sql_text(self, node: ast.AST, expr: ast.expr) -> str | None:
        """The literal text of a raw query's SQL: a string, an f-string's fixed parts, or a local variable holding one."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.JoinedStr):
            return "".join(v.value for v in expr.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self._sql_text(node, expr.left), self._sql_text(node, expr.right)
            return None if left is None or right is None else left + right
        if isinstance(expr, ast.Name):
            function = self._function_binding(node, expr.id)
            assigned = [
                a.value for a in ast.walk(function or self.tree)
                if isinstance(a, ast.Assign) and [ast.unparse(t) for t in a.targets] == [expr.id]
            ]
            return self._sql_text(node, assigned[0]) if len(assigned) == 1 else None
        return None

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
        """The name of the owned table that `dotted` names, looked up from `start` (a module), or None."""
        table = self._table_class(start, dotted)
        return None if table is None else table.__name__

    def _table_class(self, start: object, dotted: str) -> type[Table] | None:
        value = start
        for part in filter(None, dotted.split(".")):
            if not part.isidentifier():
                return None
            value = getattr(value, part, None)
        return value if inspect.isclass(value) and value in self.tables else None

    def _tables_in_sql(self, sql: str) -> list[str]:
        return [name for name in sorted(self.table_names) if re.search(rf"\b{re.escape(name)}\b", sql)]

    def _function_binding(self, node: ast.AST, name: str):
        """The innermost function around `node` in which `name` is a local variable, or None (a module name)."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and name in _local_names(node):
                return node
        return None

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
