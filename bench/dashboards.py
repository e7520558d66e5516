"""The HQ dashboard on a large generated group: endpoint p95 against one plain SQL aggregate over raw rows;
and what keeping the rollups current costs complaint intake and a callback outcome.

On a throwaway PostgreSQL and Redis: one group of `200 × scale` stores with 3 years of history in the issue's
proportions (at scale 1: 1,000,000 customers and cars, 300,000 complaints, 3,000,000 callbacks, 3,000,000
service visits), generated server-side, and the per store per day rollups counted from those rows. Then, in
the same run:

  reads  (a) `GET /api/v1/dashboards/stores` for the last whole month and for last year, through the real app
             (bearer token, scope, rollups, live overdue count), in-process over ASGI;
         (b) one plain SQL statement computing complaints, 有责, phone callbacks due/done and service visits per
             store for the same period straight from the raw tables;
         interleaved, (a) and (b) checked to give the same figures.
  writes complaint intake (`create_complaint`) and a callback outcome (`record_outcome`, reached, 满意) with the
         rollup triggers on and off (`ALTER TABLE … DISABLE TRIGGER analytics_touch_*`), in alternating rounds;
         then the worker's `refresh` of the store-days the "on" rounds queued.

Targets (issue 11): p95 < 100 ms, ≥ 10× faster than (b); the triggers add ≤ 10 % to intake and outcome.

    .venv/bin/python bench/dashboards.py --scale 0.01     # seconds: proves it runs
    .venv/bin/python bench/dashboards.py                  # the real run (200 stores × 3 years; ~10 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm.privacy.vault import throwaway_keys  # noqa: E402 (after the path is set)

YEARS = 3
STORES = 200
CUSTOMERS, COMPLAINTS, CALLBACKS, VISITS = 1_000_000, 300_000, 3_000_000, 3_000_000
ZONE = "Asia/Shanghai"
LOADED_TABLES = ["customer", "vehicle", "complaint", "callback", "service_visit"]
CHANNEL_CODES = ("hotline_400", "walk_in", "callback", "manufacturer", "online", "email", "media", "store_phone")
TRIGGER_TABLES = ("complaint", "callback", "service_visit", "complaint_deadline_miss", "major_complaint",
                  "callback_score")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 200 stores and of the rows")
    parser.add_argument("--requests", type=int, default=200, help="dashboard requests per period")
    parser.add_argument("--writes", type=int, default=400, help="intakes and outcomes per trigger setting")
    parser.add_argument("--keep", action="store_true", help="leave PostgreSQL running (prints its URL)")
    parser.add_argument("--database", help="a database an earlier --keep run generated: skip generating")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from deploy.services import start_postgres, start_redis

    pg = None if args.database else start_postgres()
    redis = start_redis()
    try:
        os.environ.update(DATABASE_URL=args.database or pg.url, REDIS_URL=redis.url, SECRET_KEY="0" * 64, **throwaway_keys(),
                          DEALERDESK_VAR=tempfile.mkdtemp(prefix="dealerdesk-bench-"), SCOPE_CACHE_SECONDS="30")
        load = os.getloadavg()[0]
        asyncio.run(_run(args, fresh=pg is not None))
        print(f"1-minute load average: {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
              f"{os.cpu_count()} cores", flush=True)
    finally:
        redis.stop()
        if pg is not None and args.keep:
            print(f"kept: --database {pg.url}", flush=True)
        elif pg is not None:
            pg.stop()


async def _run(args, *, fresh: bool) -> None:
    import httpx

    from deploy.migrations import migrate

    if fresh:
        await migrate()
    from piccolo_conf import DB

    await DB.start_connection_pool(min_size=2, max_size=10)
    try:
        if fresh:
            started = time.monotonic()
            print("generating:", flush=True)
            await _generate(os.environ["DATABASE_URL"], args.scale)
            print(f"generated in {time.monotonic() - started:.0f} s", flush=True)
        from api.app import create_app
        from tenants.accounts import issue_token
        from tenants.tables import DealerGroup, User

        app = create_app()  # connects the signal handlers, as in production
        group = await DealerGroup.select(DealerGroup.id).where(DealerGroup.code == "BENCH").first()
        hq = await User.select(User.id).where(User.username == "bench_hq").first()
        token, _ = await issue_token(hq["id"], 24)
        headers = {"Authorization": f"Bearer {token}"}
        today = datetime.now(ZoneInfo(ZONE)).date()
        last_month = today.replace(day=1) - timedelta(days=1)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for label, params, start, end in (
                ("month", {"period": "month", "month": f"{last_month:%Y-%m}"}, last_month.replace(day=1),
                 today.replace(day=1)),
                ("year", {"period": "year", "year": str(today.year - 1)},
                 date(today.year - 1, 1, 1), date(today.year, 1, 1)),
            ):
                await _check_same_figures(client, params, headers, start, end)
                request, baseline = partial(_get, client, params, headers), partial(_plain_sql, start, end)
                endpoint, plain = await _interleaved(args.requests, request, max(5, args.requests // 10), baseline)
                cold, _ = await _interleaved(max(5, args.requests // 10), partial(_cold, request), 1, baseline)
                for what, samples in (("endpoint", endpoint), ("endpoint, figures not kept", cold)):
                    print(f"{label:5}  {what:27} p50 {_ms(samples, 50)} p95 {_ms(samples, 95)}   "
                          f"plain SQL p50 {_ms(plain, 50)} p95 {_ms(plain, 95)}   "
                          f"ratio (p95) {_q(plain, 95) / _q(samples, 95):.1f}×", flush=True)
        await _writes(group["id"], args.writes)
    finally:
        await DB.close_connection_pool()


async def _cold(request):
    """A request right after the period's rollups changed: the kept figures are computed again."""
    from crm.analytics import dashboard

    dashboard._FIGURES.clear()
    return await request()


async def _get(client, params, headers):
    r = await client.get("/api/v1/dashboards/stores", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's first and last instant: local days of the group's timezone, as the rollups count them."""
    zone = ZoneInfo(ZONE)
    return tuple(datetime.combine(d, clock_time(0), tzinfo=zone) for d in (start, end))


async def _plain_sql(start: date, end: date) -> list[dict]:
    """Complaints, liable, phone callbacks due/done and visits per store for the period, from the raw tables."""
    from tenants.tables import Store

    lo, hi = _bounds(start, end)
    return await Store.raw("""
        WITH c AS (SELECT store, count(*) AS n, count(*) FILTER (WHERE liability = 'liable') AS liable
                   FROM complaint WHERE state <> 'voided' AND received_at >= {} AND received_at < {}
                   GROUP BY store),
             b AS (SELECT store, count(*) AS due, count(*) FILTER (WHERE attempts > 0) AS done FROM callback
                   WHERE channel = 'phone' AND state NOT IN ('cancelled', 'skipped') AND due_at >= {}
                   AND due_at < {} GROUP BY store),
             v AS (SELECT store, count(*) AS n FROM service_visit
                   WHERE cancelled_at IS NULL AND left_at >= {} AND left_at < {} GROUP BY store)
        SELECT s.id, c.n AS complaints, c.liable, b.due, b.done, v.n AS visits FROM store s
        LEFT JOIN c ON c.store = s.id LEFT JOIN b ON b.store = s.id LEFT JOIN v ON v.store = s.id
        WHERE s.code LIKE 'S%'""", lo, hi, lo, hi, lo, hi)


async def _check_same_figures(client, params, headers, start: date, end: date) -> None:
    """The endpoint (rollups) and the plain SQL (raw rows) agree on every store's figures."""
    body = await _get(client, params, headers)
    raw = {row["id"]: row for row in await _plain_sql(start, end)}
    for row in body["rows"]:
        plain, values = raw[row["store_id"]], row["values"]
        assert values["complaints"] == (plain["complaints"] or 0), (row["store_id"], values, plain)
        assert values["liable"] == (plain["liable"] or 0)
        assert values["service_visits"] == (plain["visits"] or 0)
        rate = plain["done"] / plain["due"] if plain["due"] else None
        assert (values["callback_rate"] is None and rate is None) or abs(values["callback_rate"] - rate) < 1e-9
    assert len(body["rows"]) == len(raw)


async def _interleaved(n: int, call, m: int, baseline) -> tuple[list[float], list[float]]:
    """n calls and m baseline calls, the baseline spread evenly among the calls (same conditions for both)."""
    samples, base = [], []
    every = max(1, n // m)
    for i in range(n):
        samples.append(await _timed(call))
        if i % every == every - 1 and len(base) < m:
            base.append(await _timed(baseline))
    return samples, base


async def _timed(call) -> float:
    t = time.perf_counter()
    await call()
    return time.perf_counter() - t


def _q(samples: list[float], q: int) -> float:
    return statistics.median(samples) if q == 50 else statistics.quantiles(samples, n=20)[18]


def _ms(samples: list[float], q: int) -> str:
    return f"{_q(samples, q) * 1000:7.1f} ms"


# ---------------------------------------------------------------- writes: the triggers' cost


async def _writes(group_id: int, n: int, rounds: int = 8) -> None:
    """Intake and outcome with the rollup triggers on and off, alternating rounds; then the worker's refresh."""
    from crm.analytics import rollups
    from crm.callbacks.service import record_outcome
    from crm.complaints.service import create_complaint
    from piccolo_conf import DB
    from tenants.accounts import create_user
    from tenants.roles import Role
    from tenants.scope import scope_for_user
    from tenants.tables import Store

    store = (await Store.select(Store.id).where(Store.group == group_id).order_by(Store.id).first())["id"]
    tag = uuid.uuid4().hex[:6]  # a database kept from an earlier run already has the first run's users
    manager = await create_user(username=f"bench_cr_{tag}", password="bench-pass-1", display_name="客户关系经理",
                                roles=[Role.STORE_CR_MANAGER], group_id=group_id, store_id=store)
    agent = await create_user(username=f"bench_agent_{tag}", password="bench-pass-1", display_name="回访专员",
                              roles=[Role.CALLBACK_AGENT], group_id=group_id, store_id=store)
    manager, agent = await scope_for_user(manager), await scope_for_user(agent)
    cars = await DB.run_ddl(f"""SELECT v.customer, v.id FROM vehicle v WHERE v.store = {store}
                               ORDER BY v.id LIMIT {2 * n}""")
    # Phone callbacks due now, one per outcome to record.
    await DB.run_ddl(f"""
        INSERT INTO callback ("group", store, customer, vehicle, kind, channel, source_type, source_id, dedupe_key,
                              anchor_at, due_at, deadline_at, state, created_at)
        SELECT {group_id}, {store}, v.customer, v.id, 'service_3d', 'phone', 'service_visit', 0,
               'bench-outcome:{tag}:' || v.id, now(), now() - interval '1 hour', now() + interval '2 days', 'due', now()
        FROM vehicle v WHERE v.store = {store} ORDER BY v.id LIMIT {2 * n}""")
    due = [r["id"] for r in await DB.run_ddl(
        f"SELECT id FROM callback WHERE store = {store} AND state = 'due' AND dedupe_key LIKE 'bench-outcome:{tag}:%' ORDER BY id")]
    await DB.run_ddl("TRUNCATE analytics_dirty")

    async def intake(i: int) -> None:
        car = cars[i % len(cars)]
        await create_complaint(actor=manager, store_id=store, customer_id=car["customer"], vehicle_id=car["id"],
                               channel="walk_in", content="基准:到店投诉,等待时间过长", complainant_name="张三")

    async def outcome(i: int) -> None:
        await record_outcome(actor=agent, callback_id=due[i], outcome="reached", satisfaction="satisfied")

    times: dict[tuple[str, bool], list[float]] = {(w, on): [] for w in ("intake", "outcome") for on in (True, False)}
    per_round, done = n // rounds, 0
    for r in range(2 * rounds):
        on = r % 2 == 0
        await _set_triggers(on)
        for i in range(done, done + per_round):
            times[("intake", on)].append(await _timed(partial(intake, i)))
            times[("outcome", on)].append(await _timed(partial(outcome, i)))
        done += per_round
    await _set_triggers(True)
    queued = (await DB.run_ddl("SELECT count(*) AS n FROM analytics_dirty"))[0]["n"]
    started = time.perf_counter()
    refreshed = await rollups.refresh()
    took = time.perf_counter() - started
    for what in ("intake", "outcome"):
        on, off = times[(what, True)], times[(what, False)]
        print(f"{what:7}  triggers on p50 {_ms(on, 50)} mean {statistics.mean(on) * 1000:6.1f} ms   "
              f"off p50 {_ms(off, 50)} mean {statistics.mean(off) * 1000:6.1f} ms   "
              f"on/off p50 {_q(on, 50) / _q(off, 50):.3f}× mean {statistics.mean(on) / statistics.mean(off):.3f}×"
              f"   ({len(on)} + {len(off)})", flush=True)
    print(f"refresh  {queued} queued rows → {refreshed['store_days']} store-day(s) recomputed in "
          f"{took * 1000:.0f} ms (the worker, after commit)", flush=True)


async def _set_triggers(on: bool) -> None:
    from piccolo_conf import DB

    for table in TRIGGER_TABLES:
        await DB.run_ddl(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER analytics_touch_{table}")


# ---------------------------------------------------------------- generating


async def _generate(url: str, scale: float) -> tuple[int, list[int]]:
    """The group, its stores and users; then customers, cars, complaints, callbacks and visits by server-side
    INSERT … SELECT on one connection with foreign-key checks and triggers off (`session_replication_role =
    replica`) and the raw tables' secondary indexes dropped while loading and rebuilt after; then the rollups
    counted from those raw rows by SQL (the same anchors and local days as `crm.analytics.rollups`)."""
    import asyncpg

    from crm.privacy import vault
    from tenants.accounts import create_user
    from tenants.roles import Role
    from tenants.tables import BrandDivision, DealerGroup, Region, Store

    stores = max(2, round(STORES * scale))
    group = DealerGroup(name="基准集团", code="BENCH", timezone=ZONE)
    await group.save()
    divisions = []
    for n in range(4):
        division = BrandDivision(group=group.id, name=f"事业部{n}", code=f"D{n}")
        await division.save()
        divisions.append(division.id)
    region = Region(group=group.id, name="华东")
    await region.save()
    await Store.insert(*(Store(group=group.id, brand_division=divisions[n % 4], region=region.id,
                               code=f"S{n:04d}", name=f"基准门店{n:04d}") for n in range(stores)))
    store_ids = [r["id"] for r in await Store.select(Store.id).where(Store.group == group.id).order_by(Store.id)]
    await create_user(username="bench_hq", password="bench-pass-1", display_name="HQ", roles=[Role.HQ_VIEWER],
                      group_id=group.id)
    g, days = int(group.id), 365 * YEARS
    customers = round(CUSTOMERS * scale)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET session_replication_role = replica; SET maintenance_work_mem = '256MB'")
        indexes = await conn.fetch("""
            SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS ddl FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY($1::text[]) AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""", LOADED_TABLES)
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["name"]}"')
        timed = _Stopwatch()
        # Mobiles are sealed at rest (the table refuses clear ones): 1,000 sealed numbers, used in turn.
        mobiles = [vault.seal(f"139{k:08d}") for k in range(1000)]
        identity = await conn.fetchval("""INSERT INTO customer_identity ("group", mobile, created_at)
                                          VALUES ($1, $2, now()) RETURNING id""", g, mobiles[0])
        await conn.execute("""
            INSERT INTO customer ("group", store, group_identity, name, mobile, source, created_at, updated_at)
            SELECT $1, ($2::int[])[1 + k % $3], $4, '客户' || k, ($6::text[])[1 + k % 1000], 'bench', now(), now()
            FROM generate_series(0, $5 - 1) k ORDER BY k""", g, store_ids, stores, identity, customers, mobiles)
        await conn.execute("""
            INSERT INTO vehicle ("group", store, customer, vin, created_at, updated_at)
            SELECT "group", store, id, 'VIN' || lpad(id::text, 14, '0'), now(), now() FROM customer
            WHERE "group" = $1 ORDER BY id""", g)
        first_customer = await conn.fetchval('SELECT min(id) FROM customer WHERE "group" = $1', g)
        first_vehicle = await conn.fetchval('SELECT min(id) FROM vehicle WHERE "group" = $1', g)
        assert await conn.fetchval('SELECT max(id) - min(id) + 1 FROM customer WHERE "group" = $1', g) == customers
        timed.lap(f"{customers:,} customers and cars")
        # Row n belongs to customer k (random), whose store is stores[k % S] — no join while generating.
        pick = f"""CROSS JOIN LATERAL (SELECT (random() * ({customers} - 1))::int + n * 0 AS k,
                                      now() - random() * interval '{days} days' + n * interval '0 s' AS t) x"""
        owner = f"$1, ($2::int[])[1 + x.k % {stores}], {first_customer} + x.k, {first_vehicle} + x.k"
        channels = "(ARRAY['hotline_400','walk_in','callback','manufacturer','online','email','media','store_phone'])"
        await conn.execute(f"""
            INSERT INTO complaint ("group", store, customer, vehicle, channel, complainant_name, content, state,
                                   received_at, routed_at, updated_at, accepted_at, resolved_at, reopen_count,
                                   liability)
            SELECT {owner}, {channels}[1 + floor(random() * 8)::int], '张三', '投诉',
                   CASE WHEN r < 0.02 THEN 'voided' WHEN r < 0.9 THEN 'closed' ELSE 'processing' END, t, t, t,
                   t + random() * interval '20 hours',
                   CASE WHEN r < 0.9 THEN t + random() * interval '10 days' END,
                   (random() < 0.05)::int, CASE WHEN random() < 0.3 THEN 'liable' ELSE '' END
            FROM generate_series(1, {round(COMPLAINTS * scale)}) n {pick}
            CROSS JOIN LATERAL (SELECT random() + n * 0 AS r) y""", g, store_ids)
        timed.lap(f"{round(COMPLAINTS * scale):,} complaints")
        levels = "(ARRAY['very_satisfied','satisfied','neutral','dissatisfied','very_dissatisfied'])"
        await conn.execute(f"""
            INSERT INTO callback ("group", store, customer, vehicle, kind, channel, source_type, source_id,
                                  dedupe_key, anchor_at, due_at, deadline_at, state, attempts, first_attempt_at,
                                  satisfaction, outcome, created_at)
            SELECT {owner}, 'service_3d', CASE WHEN r < 0.9 THEN 'phone' ELSE 'sms' END, 'service_visit', n,
                   'bench:' || n, t, t, t + interval '3 days',
                   CASE WHEN r < 0.8 THEN 'done' WHEN r < 0.85 THEN 'unreachable' WHEN r < 0.88 THEN 'cancelled'
                        ELSE 'done' END,
                   CASE WHEN r < 0.85 OR r >= 0.9 THEN 1 ELSE 0 END,
                   CASE WHEN r < 0.85 THEN t + random() * interval '4 days' END,
                   CASE WHEN r < 0.8 THEN {levels}[1 + floor(random() * random() * 5)::int] END,
                   CASE WHEN r < 0.8 THEN 'reached' WHEN r < 0.85 THEN 'no_answer' ELSE '' END, t
            FROM generate_series(1, {round(CALLBACKS * scale)}) n {pick}
            CROSS JOIN LATERAL (SELECT random() + n * 0 AS r) y""", g, store_ids)
        timed.lap(f"{round(CALLBACKS * scale):,} callbacks")
        await conn.execute(f"""
            INSERT INTO service_visit ("group", store, customer, vehicle, repair_order_no, left_at, cancelled_at,
                                       created_at, updated_at)
            SELECT {owner}, 'RO' || n, t, CASE WHEN random() < 0.02 THEN t END, t, t
            FROM generate_series(1, {round(VISITS * scale)}) n {pick}""", g, store_ids)
        timed.lap(f"{round(VISITS * scale):,} service visits")
        for index in indexes:
            await conn.execute(index["ddl"])
        timed.lap(f"{len(indexes)} secondary indexes rebuilt")
        await _count_rollups(conn, g)
        timed.lap("rollups counted from the raw rows")
        await conn.execute("TRUNCATE analytics_dirty")
        await conn.execute("ANALYZE")
        timed.lap("ANALYZE")
    finally:
        await conn.close()
    return g, store_ids


async def _count_rollups(conn, g: int) -> None:
    """analytics_store_day and the resolution histogram from the raw rows, by SQL: the columns
    `crm.analytics.rollups` fills from what the generator writes (no deadline misses, reports, scores or
    major complaints are generated, so those columns stay 0). The resolution minutes here are elapsed
    minutes × 9/24 (the generator has no calendar), not working minutes: the read is what is measured."""
    local = lambda col: f"({col} AT TIME ZONE '{ZONE}')::date"
    channel_sums = ", ".join(f"count(*) FILTER (WHERE channel = '{c}')" for c in CHANNEL_CODES)
    channel_cols = ", ".join(f"complaints_{c}" for c in CHANNEL_CODES)
    zeros = lambda n: ", ".join(["0"] * n)
    await conn.execute(f"""
        INSERT INTO analytics_store_day ("group", store, day, complaints, {channel_cols}, accept_due, accept_on_time,
            handle_due, handle_on_time, resolved, resolved_once, reopened, liable, callbacks_due, callbacks_done,
            callbacks_on_time, callbacks_unreachable, callbacks_answered, callbacks_satisfied, service_visits,
            computed_at)
        SELECT {g}, store, day, sum(a), {", ".join(f"sum(c{i})" for i in range(len(CHANNEL_CODES)))},
               sum(b), sum(b), sum(d), sum(d), sum(d), sum(e), sum(f), sum(h),
               sum(i), sum(j), sum(l), sum(m), sum(o), sum(p), sum(v), now()
        FROM (
            SELECT store, {local("received_at")} AS day, count(*) AS a, {channel_sums},
                   count(accepted_at) AS b, count(resolved_at) AS d,
                   count(*) FILTER (WHERE resolved_at IS NOT NULL OR reopen_count > 0) AS e,
                   count(*) FILTER (WHERE reopen_count > 0) AS f, count(*) FILTER (WHERE liability = 'liable') AS h,
                   {zeros(7)}
            FROM complaint WHERE "group" = {g} AND state <> 'voided' GROUP BY 1, 2
            UNION ALL
            SELECT store, {local("due_at")}, {zeros(6 + len(CHANNEL_CODES))}, count(*),
                   count(*) FILTER (WHERE attempts > 0),
                   count(*) FILTER (WHERE attempts > 0 AND first_attempt_at <= deadline_at),
                   count(*) FILTER (WHERE state = 'unreachable'), count(satisfaction),
                   count(*) FILTER (WHERE satisfaction IN ('very_satisfied', 'satisfied')), 0
            FROM callback WHERE "group" = {g} AND channel = 'phone' AND state NOT IN ('cancelled', 'skipped')
            GROUP BY 1, 2
            UNION ALL
            SELECT store, {local("left_at")}, {zeros(12 + len(CHANNEL_CODES))}, count(*)
            FROM service_visit WHERE "group" = {g} AND cancelled_at IS NULL GROUP BY 1, 2
        ) AS parts (store, day, a, {", ".join(f"c{i}" for i in range(len(CHANNEL_CODES)))}, b, d, e, f, h,
                    i, j, l, m, o, p, v)
        GROUP BY store, day""")
    await conn.execute(f"""
        INSERT INTO analytics_store_day_resolution ("group", store, day, minutes, complaints)
        SELECT {g}, store, {local("received_at")},
               (extract(epoch FROM resolved_at - received_at) / 60 * 9 / 24)::int AS minutes, count(*)
        FROM complaint WHERE "group" = {g} AND state <> 'voided' AND resolved_at IS NOT NULL
        GROUP BY 1, 2, 3, 4""")


class _Stopwatch:
    def __init__(self) -> None:
        self.last = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        print(f"  {what}: {now - self.last:.1f} s", flush=True)
        self.last = now


if __name__ == "__main__":
    main()
