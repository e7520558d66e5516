"""Callbacks at volume: planning a DMS feed's callbacks, and the agents' work queue at 5,000 open calls.

On a throwaway PostgreSQL (and Redis, for the timers enqueued after commit), in one run:

  ingest    10,000 deliveries + 30,000 service visits written with multi-row INSERTs and their
            ≈70,000 callbacks planned by `crm.callbacks.scheduling.schedule_bulk` (callbacks and
            timers written with multi-row statements), all in one transaction;
  baseline  the same rows — 40,000 deliveries/visits, 70,000 callbacks, 70,000 timers — as plain
            multi-row INSERTs into unindexed copies of the tables (no planning, no calendar);
  signals   1,000 deliveries recorded one by one through the customer records' service in one
            transaction: the callbacks area collects them and plans them once before commit;
  import    the same 10,000 deliveries + 30,000 service visits as a DMS export (CSV) through the
            customer importer (`crm.customers.importer.import_file`) into an empty store: reading,
            checking, matching, writing the customers, vehicles, deliveries and visits, and planning
            their callbacks (signals collected, `schedule_bulk` before commit) — the real path;
  queue     GET /api/v1/callbacks/queue (JSON) and GET /callbacks (HTML) with 5,000 open callbacks
            in one store, in-process (httpx → ASGI), against a bare SELECT of the queue rows.

Prints the times and ratios; with --write replaces this benchmark's section in bench/RESULTS.md.

    .venv/bin/python bench/callbacks_ingest.py [--write] [--deliveries 10000] [--visits 30000] [--profile-import F]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm.privacy.vault import throwaway_keys  # noqa: E402 (after the path is set)

SECTION = "## Issue 6 — callbacks: ingest and the work queue"


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--visits", type=int, default=30_000)
    parser.add_argument("--open", type=int, default=5_000, help="open callbacks in the queue's store")
    parser.add_argument("--requests", type=int, default=200, help="per queue measurement")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--profile-import", metavar="FILE", help="write a cProfile of the import step to FILE")
    parser.add_argument("--only-import", action="store_true", help="measure the importer path only")
    parser.add_argument("--compare-import", action="store_true", help="with --only-import: also the Piccolo insert")
    args = parser.parse_args()

    from deploy.services import start_postgres, start_redis

    pg, redis = start_postgres(), start_redis()
    try:
        os.environ.update({"DATABASE_URL": pg.url, "REDIS_URL": redis.url, "SECRET_KEY": "0" * 64, **throwaway_keys(),
                           "DEALERDESK_VAR": tempfile.mkdtemp(prefix="dealerdesk-bench-")})
        results = asyncio.run(run(args))
    finally:
        redis.stop()
        pg.stop()
    if args.only_import:
        print(results)
        return
    report = render(results, args)
    print(report)
    if args.write:
        write_section(report)


async def run(args) -> dict:
    from deploy.migrations import migrate
    from piccolo_conf import DB

    await migrate()
    await DB.start_connection_pool(min_size=2, max_size=10)
    try:
        world = await make_world(args)
        results = {"pg_version": (await DB.run_querystring(_qs("SHOW server_version")))[0]["server_version"]}
        if args.only_import:
            return results | await measure_import(world, args)
        results |= await measure_ingest(world, args)
        results |= await measure_baseline(world, args, results["callbacks"])
        results |= await measure_signals(world)
        results |= await measure_import(world, args)
        results |= await measure_queue(world, args)
        return results
    finally:
        await DB.close_connection_pool()


# ---- the tenant and its customers (not timed) ---------------------------------------------------------------


class World:
    group_id: int
    ingest_store: int
    queue_store: int
    signal_store: int
    import_store: int
    import_old_store: int
    agent_id: int
    agent_username: str
    customers: list[tuple[int, int]]  # (customer id, vehicle id) in the ingest store
    signal_customers: list[tuple[int, int]]
    queue_customers: list[tuple[int, int]]


async def make_world(args) -> World:
    from crm import clock
    from crm.customers.tables import Customer, CustomerIdentity, Vehicle
    from crm.privacy import vault
    from tenants.accounts import create_user
    from tenants.roles import Role
    from tenants.tables import DealerGroup, Store

    world = World()
    now = clock.now()
    group = DealerGroup(name="压测集团", code="BENCH", created_at=now)
    await group.save()
    world.group_id = group.id
    stores = []
    for code in ("ING", "QUE", "SIG", "IMP", "IMO"):
        store = Store(group=group.id, code=code, name=f"压测4S店{code}")
        await store.save()
        stores.append(store.id)
    world.ingest_store, world.queue_store, world.signal_store, world.import_store, world.import_old_store = stores
    world.agent_username = "bench_agent"
    world.agent_id = await create_user(username=world.agent_username, password="Passw0rd!", display_name="压测回访员",
                                       roles=[Role.CALLBACK_AGENT], store_id=world.queue_store)

    async def customers(store_id: int, n: int, tag: int) -> list[tuple[int, int]]:
        """n customers with a car each; `tag` keeps mobiles and VINs apart between batches (≤ 1,000 rows:
        Piccolo sends one parameter per value, and PostgreSQL takes at most 32,767)."""
        if n > 1000:
            return await customers(store_id, 1000, tag) + await customers(store_id, n - 1000, tag + 50)
        identities = await CustomerIdentity.insert(*[
            vault.seal_row(CustomerIdentity(group=group.id, mobile=f"1{tag:02d}{i:08d}", name=f"客户{i}", created_at=now))
            for i in range(n)
        ]).returning(CustomerIdentity.id)
        people = await Customer.insert(*[
            vault.seal_row(Customer(group=group.id, store=store_id, group_identity=identity["id"], name=f"王{tag}-{i}",
                                    gender="male", mobile=f"1{tag:02d}{i:08d}", created_at=now, updated_at=now))
            for i, identity in enumerate(identities)
        ]).returning(Customer.id)
        cars = await Vehicle.insert(*[
            Vehicle(group=group.id, store=store_id, customer=person["id"], vin=f"LBV{tag:02d}{i:012d}",
                    plate=f"沪A{tag:02d}{i:04d}"[:10], brand="大众", model="帕萨特", created_at=now, updated_at=now)
            for i, person in enumerate(people)
        ]).returning(Vehicle.id)
        return [(p["id"], c["id"]) for p, c in zip(people, cars)]

    world.customers = []
    for batch, start in enumerate(range(0, args.deliveries, 1000)):
        world.customers += await customers(world.ingest_store, min(1000, args.deliveries - start), 22 + batch)
    world.signal_customers = await customers(world.signal_store, 1000, 20)
    world.queue_customers = await customers(world.queue_store, args.open // 4, 21)
    return world


# ---- ingest: a DMS feed of deliveries and visits, and their callbacks -----------------------------------------


async def measure_ingest(world: World, args) -> dict:
    """Deliveries and visits of the last hour (so every callback is still to do), written and planned."""
    from crm import clock
    from crm.callbacks.scheduling import schedule_bulk
    from crm.callbacks.tables import Callback
    from crm.db import transaction
    from crm.timers.tables import Timer

    rng = random.Random(6)
    now = clock.now()
    sales = [(c, v, now - timedelta(minutes=rng.randint(1, 60))) for c, v in world.customers[:args.deliveries]]
    visits = [(*rng.choice(world.customers), now - timedelta(minutes=rng.randint(1, 60))) for _ in range(args.visits)]
    started = time.perf_counter()
    async with transaction():
        sale_ids = await _insert_documents("sale", "delivered_at", world, world.ingest_store, sales)
        visit_ids = await _insert_documents("service_visit", "left_at", world, world.ingest_store, visits)
        written = time.perf_counter()
        created = await schedule_bulk(group_id=world.group_id, store_id=world.ingest_store, sale_ids=sale_ids,
                                      visit_ids=visit_ids)
    total = time.perf_counter() - started
    timers = await Timer.count().where(Timer.store == world.ingest_store)
    assert created == await Callback.count().where(Callback.store == world.ingest_store) == timers
    return {"callbacks": created, "timers": timers, "ingest_s": total, "write_rows_s": written - started,
            "plan_s": total - (written - started)}


async def _insert_documents(table: str, time_column: str, world: World, store_id: int, rows: list) -> list[int]:
    from crm.customers.tables import Sale

    sql = (
        f'INSERT INTO {table} ("group", store, customer, vehicle, {time_column}, source, created_at, updated_at) '
        "SELECT {}, {}, c, v, t, 'dms', now(), now() FROM unnest({}::int[], {}::int[], {}::timestamptz[]) "
        "AS r(c, v, t) RETURNING id"
    )
    ids = []
    for start in range(0, len(rows), 10_000):
        chunk = rows[start:start + 10_000]
        result = await Sale.raw(sql, world.group_id, store_id, [r[0] for r in chunk], [r[1] for r in chunk],
                                [r[2] for r in chunk])
        ids += [r["id"] for r in result]
    return ids


async def measure_baseline(world: World, args, callbacks: int) -> dict:
    """The same number of rows as plain multi-row INSERTs into unindexed copies of the tables."""
    from crm import clock
    from crm.customers.tables import Sale
    from crm.db import transaction

    now = clock.now()
    for name in ("sale", "service_visit", "callback", "timer"):
        await Sale.raw(f"CREATE TABLE bench_{name} (LIKE {name} INCLUDING DEFAULTS)")
    documents = [(c, v, now) for c, v in world.customers] * ((args.deliveries + args.visits) // len(world.customers))
    started = time.perf_counter()
    async with transaction():
        for start in range(0, len(documents), 10_000):
            chunk = documents[start:start + 10_000]
            await Sale.raw(
                'INSERT INTO bench_sale ("group", store, customer, vehicle, delivered_at, created_at, updated_at) '
                "SELECT {}, {}, c, v, t, now(), now() FROM unnest({}::int[], {}::int[], {}::timestamptz[]) AS r(c, v, t)",
                world.group_id, world.ingest_store, [r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk])
        for start in range(0, callbacks, 10_000):
            n = min(10_000, callbacks - start)
            customers = [world.customers[i % len(world.customers)] for i in range(start, start + n)]
            await Sale.raw(
                'INSERT INTO bench_callback ("group", store, customer, vehicle, kind, channel, survey, source_type, '
                "source_id, dedupe_key, anchor_at, due_at, deadline_at, state, max_attempts, retry_minutes, attempts, "
                "outcome, comment, corrections, created_at) "
                "SELECT {}, {}, c, v, 'delivery_care_2h', 'phone', '', 'sale', k, 'bench:' || k, now(), now(), now(), "
                "'scheduled', 3, 120, 0, '', '', {}::json, now() FROM unnest({}::int[], {}::int[], {}::int[]) AS r(c, v, k)",
                world.group_id, world.ingest_store, "{}", [c for c, _ in customers], [v for _, v in customers],
                list(range(start, start + n)))
            await Sale.raw(
                'INSERT INTO bench_timer ("group", store, kind, subject_type, subject_id, payload, due_at, state, '
                "attempts, last_error, version, created_at) "
                "SELECT {}, {}, 'callback.due', 'callback', k, {}::json, now(), 'pending', 0, '', 0, now() "
                "FROM unnest({}::bigint[]) AS r(k)",
                world.group_id, world.ingest_store, "{}", list(range(start, start + n)))
    return {"baseline_s": time.perf_counter() - started}


# ---- signals: deliveries recorded one by one, planned together before commit ----------------------------------


async def measure_signals(world: World) -> dict:
    import crm.callbacks  # noqa: F401  (connects the callbacks area to the customer records' signals)
    from crm import clock
    from crm.callbacks.tables import Callback
    from crm.customers import service as customers
    from crm.db import transaction
    from tenants.roles import Role
    from tenants.scope import Scope

    actor = Scope(user_id=world.agent_id, group_id=world.group_id, roles=frozenset({Role.STAFF}),
                  store_ids=frozenset({world.signal_store}), home_store_id=world.signal_store)
    now = clock.now()
    started = time.perf_counter()
    async with transaction():
        for customer_id, vehicle_id in world.signal_customers:
            await customers.record_sale(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id,
                                        delivered_at=now - timedelta(minutes=5))
    total = time.perf_counter() - started
    created = await Callback.count().where(Callback.store == world.signal_store)
    return {"signals_n": len(world.signal_customers), "signals_s": total, "signals_callbacks": created}


# ---- import: the same volume as a DMS export through the customer importer -----------------------------------


def _dms_export(args, now, prefix: str) -> bytes:
    """A CSV as a DMS exports it: one row per delivery (customer, car, order), then one per repair order of
    those cars; every time within the last hour, in the store's local time (Asia/Shanghai)."""
    import csv
    import io
    from zoneinfo import ZoneInfo

    from crm.customers.validation import vin_check_digit

    rng = random.Random(8)
    local = now.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["客户姓名", "手机", "车架号", "车牌号", "品牌", "车型", "订单号", "交车日期", "工单号", "离站时间"])

    def vin(i: int) -> str:
        base = f"LSVAU218?N{i:07d}"
        return base.replace("?", vin_check_digit(base.replace("?", "0")))

    def moment() -> str:
        return (local - timedelta(minutes=rng.randint(1, 60))).strftime("%Y-%m-%d %H:%M")

    people = [(f"赵{i}", f"{prefix}{i:08d}", vin(i)) for i in range(args.deliveries)]
    for i, (name, mobile, car) in enumerate(people):
        writer.writerow([name, mobile, car, f"沪B{i:05d}", "大众", "帕萨特", f"SO{i:08d}", moment(), "", ""])
    for j in range(args.visits):
        name, mobile, car = rng.choice(people)
        writer.writerow([name, mobile, car, "", "", "", "", "", f"RO{j:08d}", moment()])
    return out.getvalue().encode("utf-8")


async def measure_import(world: World, args) -> dict:
    """The import as it is, and — into another empty store, other customers, same shape — with the importer's
    rows written by Piccolo's multi-row insert as before (the callbacks' planning is the same in both)."""
    from crm.customers.importer import _Writer

    results = {}
    for name, store_id, prefix, plain in (("import", world.import_store, "137", True),
                                          ("import_piccolo", world.import_old_store, "136", False)):
        _Writer.plain_insert = plain
        try:
            results |= await _measure_import(world, args, name, store_id, prefix,
                                             args.profile_import if plain else None)
        finally:
            _Writer.plain_insert = True
        if args.only_import and not args.compare_import:
            break
    return results


async def _measure_import(world: World, args, name: str, store_id: int, prefix: str, profile: str | None) -> dict:
    import crm.callbacks  # noqa: F401  (connects the callbacks area to the customer records' signals)
    from crm import clock
    from crm.callbacks.tables import Callback
    from crm.customers.importer import import_file
    from tenants.roles import Role
    from tenants.scope import Scope

    actor = Scope(user_id=world.agent_id, group_id=world.group_id, roles=frozenset({Role.STORE_GM}),
                  store_ids=frozenset({store_id}), home_store_id=store_id)
    content = _dms_export(args, clock.now(), prefix)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    report = await import_file(actor=actor, store_id=store_id, filename="dms.csv", content=content)
    total = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    assert report.imported and not report.errors, report.errors[:3]
    created = await Callback.count().where(Callback.store == store_id)
    return {f"{name}_s": total, f"{name}_rows": report.rows_valid, f"{name}_sales": report.created.sales,
            f"{name}_visits": report.created.visits, f"{name}_callbacks": created}


# ---- the work queue at 5,000 open callbacks ----------------------------------------------------------------------


async def measure_queue(world: World, args) -> dict:
    import httpx

    from api.app import create_app
    from crm import clock
    from crm.callbacks.scheduling import schedule_bulk
    from crm.callbacks.tables import Callback
    from crm.customers.tables import Sale
    from tenants.accounts import issue_token

    # Deliveries of the last three days until the store has the open callbacks asked for; the ones due are
    # marked as their timers would have left them (fired), the rest stay scheduled.
    rng = random.Random(7)
    customers = iter(world.queue_customers * 20)
    while await Callback.count().where(Callback.store == world.queue_store) < args.open:
        now = clock.now()
        sales = [(c, v, now - timedelta(minutes=rng.randint(10, 3 * 24 * 60))) for c, v in
                 (next(customers) for _ in range(250))]
        sale_ids = await _insert_documents("sale", "delivered_at", world, world.queue_store, sales)
        await schedule_bulk(group_id=world.group_id, store_id=world.queue_store, sale_ids=sale_ids)
    await Callback.update({Callback.state: "due"}).where(Callback.store == world.queue_store,
                                                          Callback.due_at <= clock.now(), Callback.channel == "phone")
    await Sale.raw("ANALYZE")
    states = {r["state"]: r["n"] for r in await Callback.raw(
        "SELECT state, count(*) AS n FROM callback WHERE store = {} GROUP BY state", world.queue_store)}
    token, _ = await issue_token(world.agent_id, 2)
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        api_headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/callbacks/queue", headers=api_headers)).status_code == 200
        login = await client.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)
        await client.post("/login", data={"group_code": "BENCH", "username": world.agent_username,
                                          "password": "Passw0rd!", "next": "/", "_csrf_token": csrf})
        page = await client.get("/callbacks")
        assert page.status_code == 200 and "回访工作台" in page.text, page.status_code

        async def json_queue():
            response = await client.get("/api/v1/callbacks/queue", headers=api_headers)
            assert response.status_code == 200

        async def html_queue():
            response = await client.get("/callbacks")
            assert response.status_code == 200

        async def bare_select():
            await Callback.raw(_BARE_QUEUE, world.queue_store)

        timings = {}
        for name, call in (("bare", bare_select), ("json", json_queue), ("html", html_queue)):
            for _ in range(20):  # warm-up
                await call()
        for _round in range(3):  # interleaved rounds
            for name, call in (("bare", bare_select), ("json", json_queue), ("html", html_queue)):
                for _ in range(args.requests // 3):
                    started = time.perf_counter()
                    await call()
                    timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return {"queue_states": states, "queue": {name: _percentiles(values) for name, values in timings.items()}}


# What the queue shows, as one hand-written statement: the due calls with customer and car, in deadline order.
_BARE_QUEUE = (
    "SELECT c.id, c.kind, c.due_at, c.deadline_at, c.attempts, p.name, p.mobile, v.plate, v.model "
    "FROM callback c JOIN customer p ON p.id = c.customer LEFT JOIN vehicle v ON v.id = c.vehicle "
    "WHERE c.store = {} AND c.state = 'due' AND c.channel = 'phone' ORDER BY c.deadline_at LIMIT 50"
)


def _percentiles(values: list[float]) -> dict:
    values = sorted(values)
    return {"n": len(values), "p50": statistics.median(values), "p99": values[int(len(values) * 0.99) - 1],
            "mean": statistics.fmean(values)}


def _qs(sql: str):
    from piccolo.querystring import QueryString

    return QueryString(sql)


# ---- report -------------------------------------------------------------------------------------------------------


def render(r: dict, args) -> str:
    q = r["queue"]
    lines = [
        SECTION,
        "",
        f"`bench/callbacks_ingest.py` on {time.strftime('%Y-%m-%d')}: PostgreSQL {r['pg_version']}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores (load average "
        f"{os.getloadavg()[0]:.1f} at the end); everything in one process against a throwaway cluster.",
        "",
        f"**Ingest** — {args.deliveries:,} deliveries + {args.visits:,} service visits of the last hour, written with "
        f"multi-row INSERTs and their callbacks planned by `schedule_bulk`, in one transaction:",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| write the {args.deliveries + args.visits:,} deliveries/visits | {r['write_rows_s']:.2f} |",
        f"| plan {r['callbacks']:,} callbacks with {r['timers']:,} timers (rules, contact window, multi-row inserts) "
        f"| {r['plan_s']:.2f} |",
        f"| **ingest total** (target < 20 s) | **{r['ingest_s']:.2f}** |",
        f"| baseline: the same {args.deliveries + args.visits:,} + {r['callbacks']:,} + {r['timers']:,} rows as plain "
        f"multi-row INSERTs into unindexed copies | {r['baseline_s']:.2f} |",
        "",
        f"**Ratio: ingest takes {r['ingest_s'] / r['baseline_s']:.1f}× the plain INSERTs of the same rows.**",
        "",
        f"**Through the DMS importer** (the real recording path: `crm.customers.importer.import_file` reads and "
        f"checks a CSV export of the same {args.deliveries:,} deliveries + {args.visits:,} service visits, matches "
        f"and writes customers, vehicles, deliveries and visits into an empty store, and the callbacks area plans "
        f"their callbacks once before commit): {r['import_rows']:,} rows → {r['import_sales']:,} deliveries + "
        f"{r['import_visits']:,} visits → {r['import_callbacks']:,} callbacks in **{r['import_s']:.2f} s** "
        f"({r['import_s'] / r['import_rows'] * 1000:.2f} ms per row; target < 20 s "
        f"{'met' if r['import_s'] < 20 else '**not met**'}; {r['import_s'] / r['ingest_s']:.1f}× the bulk ingest "
        f"above).",
        "",
        f"The same import with the importer's rows written by Piccolo's multi-row insert, as before this change "
        f"(other customers into another empty store, same run): **{r['import_piccolo_s']:.2f} s** "
        f"({r['import_piccolo_s'] / r['import_piccolo_rows'] * 1000:.2f} ms per row) — "
        f"{r['import_piccolo_s'] / r['import_s']:.1f}× the current path. cProfile of the old path: the callbacks' "
        f"planning was already batched (`schedule_bulk` before commit, ≈10 % of the time); most went to writing "
        f"the importer's own customers, vehicles, deliveries and visits, Piccolo building a `Table` object and a "
        f"nested query string per row and compiling every parameter in Python. On PostgreSQL the importer now "
        f"sends one plain parameterised INSERT per batch (same columns and defaults). What remains is checking "
        f"every row with the manual-entry rules, identity matching, the callbacks' planning and PostgreSQL's index "
        f"upkeep{'.' if r['import_s'] < 20 else '; at this run the < 20 s target is not reached on this path.'}",
        "",
        f"Through the customer records' service one call at a time (manual entry, or code recording deliveries "
        f"one by one in one transaction): {r['signals_n']:,} deliveries → {r['signals_callbacks']:,} callbacks in "
        f"{r['signals_s']:.2f} s ({r['signals_s'] / r['signals_n'] * 1000:.1f} ms per delivery — "
        f"≈{r['signals_s'] / r['signals_n'] * (args.deliveries + args.visits):.0f} s at 40,000 rows; nearly all of "
        f"it the service's own per-row checks and statements, the callbacks are planned once, before commit). Bulk "
        f"loads should go through the importer.",
        "",
        f"**Work queue** — one store with {sum(r['queue_states'].values()):,} callbacks "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(r['queue_states'].items()))}), in-process requests "
        f"(httpx → ASGI), {q['json']['n']} each, interleaved:",
        "",
        "| request | p50 ms | p99 ms |",
        "|---|---:|---:|",
        f"| `GET /api/v1/callbacks/queue` (token, scope, 4 sections + counts) | {q['json']['p50']:.1f} | "
        f"{q['json']['p99']:.1f} |",
        f"| `GET /callbacks` (session, the HTML page) | {q['html']['p50']:.1f} | {q['html']['p99']:.1f} |",
        f"| baseline: one bare SELECT of the due rows with customer and car | {q['bare']['p50']:.1f} | "
        f"{q['bare']['p99']:.1f} |",
        "",
        f"**Ratios (p50): JSON {q['json']['p50'] / q['bare']['p50']:.1f}×, HTML {q['html']['p50'] / q['bare']['p50']:.1f}× "
        f"the bare SELECT; target < 100 ms.**",
        "",
        "Reading: planning is Python work per callback (its rule, the store's contact window, the dedupe key) plus "
        "index upkeep on `callback` and `timer` rows that the plain INSERT into unindexed copies does not pay; the "
        "calendar's per-day lookups are memoised (`chinesecalendar` scans its table on every call). The queue "
        "request runs about ten statements — token and scope, the four sections with customer and car, the three "
        "counts — each a Piccolo query build and a round trip, against the baseline's one. Absolute numbers move "
        "with the machine's load (shared here); ratios are measured in the same run.",
        "",
    ]
    return "\n".join(lines)


def write_section(report: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(report.rstrip("\n") + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + report
    path.write_text(text)


if __name__ == "__main__":
    main()
