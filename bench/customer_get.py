"""What do authentication and the tenant scope cost on a customer read?

On a throwaway PostgreSQL with the small demo tenant, three uvicorn servers run side
by side in the same run:

  raw: the baseline — a Litestar handler running a hand-written
      `SELECT * FROM customer WHERE id = $1` on an asyncpg pool, no framework
      between it and the database;
  bare: the same handler through Piccolo (`Customer.select().where(...)`), no auth, no scope;
  dealerdesk: the real `GET /api/v1/customers/{id}/record` — bearer-token
      lookup, scope of the user (roles, visible stores; cached a few seconds),
      scoped SELECT, serialisation — and the whole customer page
      `GET /api/v1/customers/{id}` (profile, vehicles, deliveries, visits).

The same client measures all of them (wrk when installed — `apt-get install wrk` — else
httpx), interleaved for several rounds; prints requests/s, p50/p99 and the ratios to the
raw baseline (issue 10 asks ≥ 0.5× for the record, ≥ 0.2× for the page), and with
--write replaces this benchmark's section in bench/RESULTS.md.

    .venv/bin/python bench/customer_get.py [--write] [--seconds 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm.privacy.vault import throwaway_keys  # noqa: E402 (after the path is set)

SECTION = "## Issues 2 and 10 — scoped customer GET and the customer page"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="per measurement (wrk)")
    parser.add_argument("--requests", type=int, default=5000, help="per measurement (httpx)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")

    from deploy.services import free_port, start_postgres, start_redis

    load_before = os.getloadavg()[0]
    pg, redis = start_postgres(), start_redis()  # Redis: the web page's session
    servers: list[subprocess.Popen] = []
    try:
        env = {**os.environ, "DATABASE_URL": pg.url, "REDIS_URL": redis.url,
               "DEALERDESK_VAR": tempfile.mkdtemp(prefix="dealerdesk-bench-"), "SECRET_KEY": "0" * 64, **throwaway_keys()}
        os.environ.update(env)
        token, customer_id = asyncio.run(_prepare())
        ports = {"dealerdesk": free_port(), "bare": free_port(), "raw": free_port(), "raw_default": free_port()}
        servers.append(_uvicorn("api.app:create_app", ports["dealerdesk"], env))
        servers.append(_uvicorn("customer_get:create_bare_app", ports["bare"], env))
        servers.append(_uvicorn("customer_get:create_raw_app", ports["raw"], env))
        servers.append(_uvicorn("customer_get:create_raw_default_pool_app", ports["raw_default"], env))
        bearer = {"Authorization": f"Bearer {token}"}
        dealerdesk = f"http://127.0.0.1:{ports['dealerdesk']}"
        targets = {
            "raw": Target(f"http://127.0.0.1:{ports['raw']}/customers/{customer_id}", {},
                          lambda r: r.json()["id"] == customer_id),
            "raw_default": Target(f"http://127.0.0.1:{ports['raw_default']}/customers/{customer_id}", {},
                                  lambda r: r.json()["id"] == customer_id),
            "dealerdesk": Target(f"{dealerdesk}/api/v1/customers/{customer_id}/record",
                                 bearer, lambda r: r.json()["id"] == customer_id),
            "bare": Target(f"http://127.0.0.1:{ports['bare']}/customers/{customer_id}", {},
                           lambda r: r.json()["id"] == customer_id),
            "me": Target(f"{dealerdesk}/api/v1/me", bearer, lambda r: "roles" in r.json()),
            "page": Target(f"{dealerdesk}/api/v1/customers/{customer_id}", bearer,
                           lambda r: r.json()["customer"]["id"] == customer_id),
        }
        asyncio.run(_check(targets))
        session = {"Cookie": asyncio.run(_sign_in(dealerdesk))}
        targets["html"] = Target(f"{dealerdesk}/customers/{customer_id}", session,
                                 lambda r: r.headers["content-type"].startswith("text/html") and "<table" in r.text)
        asyncio.run(_check({"html": targets["html"]}))
        queries = asyncio.run(_count_queries(targets))
        results: dict[str, list[Result]] = {name: [] for name in targets}
        for name, target in targets.items():  # warm-up: connection pools, caches
            _measure(client, target, args, seconds=2, requests=500)
        for _ in range(args.rounds):
            for name, target in targets.items():
                results[name].append(_measure(client, target, args))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        redis.stop()
        pg.stop()

    report = _report(results, queries, client, args, load_before)
    print(report)
    if args.write:
        _write_results(report)


@dataclass
class Target:
    url: str
    headers: dict[str, str]
    answers_right: Callable[[Any], bool]  # given the httpx response


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


async def _prepare() -> tuple[str, int]:
    """Migrate, seed the small demo tenant; a token of the store GM and a customer of that store."""
    from crm.customers.tables import Customer
    from deploy.demo_data import seed
    from deploy.migrations import migrate
    from tenants.accounts import issue_token
    from crm.wiring import connect_all
    from tenants.tables import User

    connect_all()  # the seed schedules timers, which need their handlers registered
    await migrate()
    await seed(small=True)
    gm = await User.select(User.id, User.store).where(User.username == "gm").first()
    customer = await Customer.select(Customer.id).where(Customer.store == gm["store"]).first()
    token, _ = await issue_token(gm["id"], 2)
    return token, customer["id"]


async def _count_queries(targets: dict[str, Target]) -> dict[str, int]:
    """SQL statements per request of each kind, counted in-process (on asyncpg's connection) around one request.

    The pool's reset of a connection handed back (`RESET ALL` …) is not counted: every pooled read pays it.
    """
    import asyncpg
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    apps = {"raw": create_raw_app(), "raw_default": create_raw_default_pool_app(), "dealerdesk": create_app(), "bare": create_bare_app(), "me": create_app(),
            "page": create_app(), "html": create_app()}
    counted = 0
    methods = ("fetch", "fetchrow", "fetchval", "execute", "executemany")
    originals = {name: getattr(asyncpg.Connection, name) for name in methods}

    def counting(original):
        async def run(self, *args, **kwargs):
            nonlocal counted
            counted += 1
            return await original(self, *args, **kwargs)
        return run

    reset = asyncpg.Connection.reset

    async def uncounted_reset(self, *args, **kwargs):
        nonlocal counted
        before = counted
        await reset(self, *args, **kwargs)
        counted = before

    for name, original in originals.items():
        setattr(asyncpg.Connection, name, counting(original))
    asyncpg.Connection.reset = uncounted_reset
    counts = {}
    try:
        for name, target in targets.items():
            path = "/" + target.url.split("/", 3)[3]
            async with AsyncTestClient(app=apps[name]) as c:
                for kind in ("cold", "warm"):  # the first request of a caller resolves it; later ones use the cache
                    counted = 0
                    assert (await c.get(path, headers=target.headers)).status_code == 200
                    counts[name if kind == "warm" else f"{name}:{kind}"] = counted
    finally:
        for name, original in originals.items():
            setattr(asyncpg.Connection, name, original)
        asyncpg.Connection.reset = reset
    return counts


async def _sign_in(base_url: str) -> str:
    """The store GM signs in through the login form: the session cookie of the web UI."""
    import httpx

    from deploy.demo_data import DEMO_PASSWORD, GROUP_CODE

    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.get("/login")
        response = await client.post("/login", data={
            "group_code": GROUP_CODE, "username": "gm", "password": DEMO_PASSWORD, "next": "/", "_csrf_token": client.cookies["csrftoken"],
        })
        if response.status_code != 303:
            raise SystemExit(f"sign-in answered {response.status_code}: {response.text[:300]}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def create_bare_app():
    """(b): Litestar, one handler, the same pool settings as the real app, no auth, no scope."""
    from litestar import Litestar, get
    from litestar.exceptions import NotFoundException

    from crm.customers.tables import Customer
    from crm.db import start_pool, stop_pool

    @get("/customers/{customer_id:int}")
    async def bare_customer(customer_id: int) -> dict:
        row = await Customer.select().where(Customer.id == customer_id).first()
        if row is None:
            raise NotFoundException()
        return row

    @asynccontextmanager
    async def pool(_: Litestar):
        await start_pool(max_size=10)
        try:
            yield
        finally:
            await stop_pool()

    return Litestar(route_handlers=[bare_customer], lifespan=[pool])


def create_raw_app(default_pool: bool = False):
    """The baseline: Litestar, one handler, a hand-written SELECT on an asyncpg pool of the same size and the same
    settings as the app's (`crm.db.start_pool`: no reset query when a connection goes back); `default_pool`:
    asyncpg's default pool, which resets each connection handed back (one more round trip per request)."""
    import asyncpg
    from litestar import Litestar, get
    from litestar.exceptions import NotFoundException

    from crm.db import POOL_SETTINGS
    from crm.settings import get_settings

    pools: list[asyncpg.Pool] = []

    @get("/customers/{customer_id:int}")
    async def raw_customer(customer_id: int) -> dict:
        row = await pools[0].fetchrow("SELECT * FROM customer WHERE id = $1", customer_id)
        if row is None:
            raise NotFoundException()
        return dict(row)

    @asynccontextmanager
    async def pool(_: Litestar):
        settings = {} if default_pool else POOL_SETTINGS
        pools.append(await asyncpg.create_pool(get_settings().database_url, min_size=1, max_size=10, **settings))
        try:
            yield
        finally:
            await pools.pop().close()

    return Litestar(route_handlers=[raw_customer], lifespan=[pool])


def create_raw_default_pool_app():
    return create_raw_app(default_pool=True)


def _uvicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--factory", "--app-dir", str(Path(__file__).parent),
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
    )


async def _check(targets: dict[str, Target]) -> None:
    """The servers are up and answer what they should (polls while they start)."""
    import httpx

    async with httpx.AsyncClient(timeout=5) as client:
        for name, target in targets.items():
            for _ in range(300):
                try:
                    response = await client.get(target.url, headers=target.headers)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"{name} did not start")
            if response.status_code != 200 or not target.answers_right(response):
                raise SystemExit(f"{name} answered {response.status_code}: {response.text[:300]}")


def _measure(client: str, target: Target, args: argparse.Namespace, seconds: float | None = None,
             requests: int | None = None) -> Result:
    if client == "wrk":
        return _measure_wrk(target, args.concurrency, seconds or args.seconds)
    return asyncio.run(_measure_httpx(target, args.concurrency, requests or args.requests))


def _measure_wrk(target: Target, concurrency: int, seconds: float) -> Result:
    command = ["wrk", "--latency", "-t", "1", "-c", str(concurrency), "-d", f"{seconds:g}s", target.url]
    for key, value in target.headers.items():
        command[1:1] = ["-H", f"{key}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors during the run:\n{out}")
    return Result(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_wrk_ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),
        p99_ms=_wrk_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),
    )


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


async def _measure_httpx(target: Target, concurrency: int, requests: int) -> Result:
    import httpx

    latencies: list[float] = []
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def user() -> None:
            for _ in remaining:
                start = time.perf_counter()
                response = await client.get(target.url, headers=target.headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{target.url} answered {response.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(rps=len(latencies) / elapsed, p50_ms=latencies[len(latencies) // 2] * 1000,
                  p99_ms=latencies[int(len(latencies) * 0.99)] * 1000)


def _report(results: dict[str, list[Result]], queries: dict[str, int], client: str, args: argparse.Namespace,
            load_before: float) -> str:
    def median(name: str, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in results[name])

    def ratio(name: str) -> float:
        """Requests/s of `name` over the raw baseline's, round by round (the same moment's load), median."""
        return statistics.median(r.rps / raw.rps for r, raw in zip(results[name], results["raw"]))

    load = (f"{args.seconds:g} s" if client == "wrk" else f"{args.requests} requests") + \
        f" × {args.rounds} rounds per server, {args.concurrency} concurrent connections"
    lines = [
        SECTION,
        "",
        f"`bench/customer_get.py` on {time.strftime('%Y-%m-%d')}: PostgreSQL "
        f"{_postgres_version()}, one uvicorn process per server, client `{client}` on the same machine "
        f"({os.cpu_count()} cores, 1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} "
        f"after, Python {platform.python_version()}); {load}, interleaved. Medians of the rounds; the ratio is "
        "taken round by round against the raw baseline measured just before.",
        "",
        "| server | SQL statements / request (after the caller's first) | requests/s | × raw | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {"raw": "baseline: Litestar handler, hand-written `SELECT * FROM customer WHERE id = $1` on an asyncpg "
                     "pool with the app's settings",
              "raw_default": "for context: the same baseline on asyncpg's default pool (a reset query on each "
                             "release)",
              "bare": "bare Litestar handler, the same SELECT through Piccolo, no auth/scope",
              "dealerdesk": "`GET /api/v1/customers/{id}/record` — bearer token, scope, scoped SELECT of the customer",
              "me": "for attribution: `GET /api/v1/me` — bearer token and scope only, no customer query",
              "page": "`GET /api/v1/customers/{id}` — the whole customer page (客户档案: profile, vehicles, "
                      "deliveries, visits)",
              "html": "for context: `GET /customers/{id}` — the same page as HTML for the web UI (session cookie, "
                      "change history, template)"}
    for name, label in labels.items():
        lines.append(f"| {label} | {queries[name]} | {median(name, 'rps'):.0f} | {ratio(name):.2f} | "
                     f"{median(name, 'p50_ms'):.2f} | {median(name, 'p99_ms'):.2f} |")
    lines += [
        "",
        f"**Ratios to the raw asyncpg baseline: scoped record GET {ratio('dealerdesk'):.2f}× (target ≥ 0.5×), "
        f"customer page {ratio('page'):.2f}× (target ≥ 0.2×).**",
        "",
        f"Reading: the caller (token → user → roles → visible stores) is resolved with {queries['me:cold']} "
        "statements on its first request and then kept for `SCOPE_CACHE_SECONDS` (5 s), so a client's repeated "
        f"requests cost {queries['me']} statements for authentication and scope; the session middleware skips "
        "`/api/` (bearer clients have no cookie). The scoped reads are compiled to SQL once (`tenants.scope.Rows`: "
        "the scope's `group = $1 AND store = ANY($2)` in the statement, the caller's group and stores as "
        "parameters) and run as prepared statements on one pooled connection, instead of Piccolo building each "
        "query in Python (the bare Piccolo handler's row shows that cost); the customer page reads the customer "
        f"with its vehicles, deliveries, visits and store in {queries['page']} statement(s) (group-level callers: "
        "one more for the same person in other stores). The HTML page adds the session (Redis), the change "
        f"history and the template ({queries['html']} statements). Absolute numbers depend on the machine's "
        "load (shared with other work here); the ratios are measured in the same run.",
    ]
    return "\n".join(lines) + "\n"


def _postgres_version() -> str:
    from deploy.services import postgres_bindir

    return postgres_bindir().parent.name


def _write_results(report: str) -> None:
    """Replace this benchmark's section in RESULTS.md, keeping the other engineers' sections."""
    path = Path(__file__).parent / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + report
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + report + (text[end + 1:] if end != -1 else "")
    path.write_text(text)


if __name__ == "__main__":
    main()
