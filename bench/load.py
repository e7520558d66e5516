"""Mixed load (issue 15): call-center intake, store work and dashboard reads against a real server.

Default: a throwaway PostgreSQL and Redis with the small demo tenant and one uvicorn process (no worker). Virtual users of each kind
run for `--seconds` over HTTP (asyncio + httpx):

  intake     — the call-center agent takes a complaint for store SVW-SH01 (new customer, 400 hotline);
  accept / assign / handle — the store's CR manager accepts an intaken complaint and assigns it to the
               department head, who records the cause (the store's work, in that order, one complaint each);
  dashboard  — the HQ viewer reads this month's store table.

Prints requests, throughput and p50/p95/p99 per kind.

`--sqlite`: the embedded demo (`python -m deploy.launcher demo`: SQLite in WAL mode, embedded Redis and
worker) with `--readers` readers (complaint list and dashboard) and `--writers` writers (intake) at once;
the target is intake p99 under 1 s (item 7).

    .venv/bin/python bench/load.py --seconds 30
    .venv/bin/python bench/load.py --sqlite --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm.privacy.vault import throwaway_keys  # noqa: E402 (after the path is set)

GROUP_CODE, PASSWORD = "HDQC", "demo1234"  # the demo tenant's (deploy/demo_data.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sqlite", action="store_true", help="the embedded demo: readers + writers, intake p99")
    parser.add_argument("--intake", type=int, default=4, help="call-center users (PostgreSQL mode)")
    parser.add_argument("--store-work", type=int, default=4, help="store users (PostgreSQL mode)")
    parser.add_argument("--dashboard", type=int, default=4, help="dashboard readers (PostgreSQL mode)")
    parser.add_argument("--readers", type=int, default=10, help="--sqlite mode")
    parser.add_argument("--writers", type=int, default=10, help="--sqlite mode")
    args = parser.parse_args()
    print(f"load average before: {_load()}", flush=True)
    if args.sqlite:
        stats, elapsed = _on_sqlite_demo(args)
    else:
        stats, elapsed = _on_postgres(args)
    print(f"load average after: {_load()}")
    print(_report(stats, elapsed))


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# ---------------------------------------------------------------- servers


def _on_postgres(args: argparse.Namespace):
    from deploy.services import free_port, start_postgres, start_redis, wait_until_healthy

    pg, redis = start_postgres(), start_redis()
    server = None
    try:
        env = {**os.environ, "DATABASE_URL": pg.url, "REDIS_URL": redis.url, "SECRET_KEY": "0" * 64, **throwaway_keys(),
               "DEALERDESK_VAR": tempfile.mkdtemp(prefix="dealerdesk-bench-")}
        os.environ.update(env)
        asyncio.run(_seed())
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        )
        wait_until_healthy(f"http://127.0.0.1:{port}/health", server)
        users = {"intake": args.intake, "store_work": args.store_work, "dashboard": args.dashboard}
        return asyncio.run(_scenario(f"http://127.0.0.1:{port}", users, args.seconds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        redis.stop()
        pg.stop()


async def _seed() -> None:
    from crm.wiring import connect_all
    from deploy.demo_data import seed
    from deploy.migrations import migrate

    connect_all()  # the seed schedules timers: their handlers must be registered
    await migrate()
    await seed(small=True)


def _on_sqlite_demo(args: argparse.Namespace):
    from deploy.services import free_port, wait_until_healthy

    port = free_port()
    env = {**os.environ, "DEALERDESK_VAR": tempfile.mkdtemp(prefix="dealerdesk-bench-"), "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    demo = subprocess.Popen([sys.executable, "-m", "deploy.launcher", "demo", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/health", demo, timeout=900)  # the first start seeds
        users = {"intake": args.writers, "read": args.readers}
        return asyncio.run(_scenario(f"http://127.0.0.1:{port}", users, args.seconds))
    finally:
        demo.terminate()
        demo.wait(timeout=30)


# ---------------------------------------------------------------- the scenario


class Stats:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.statuses: dict[str, Counter] = defaultdict(Counter)

    async def call(self, kind: str, request) -> dict | list | None:
        started = time.perf_counter()
        response = await request
        self.times[kind].append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.errors[kind] += 1
            self.statuses[kind][response.status_code] += 1
            return None
        return response.json()


async def _scenario(base: str, users: dict[str, int], seconds: float):
    import httpx

    stats = Stats()
    limits = httpx.Limits(max_connections=sum(users.values()) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        tokens = {who: await _token(client, who) for who in ("callcenter", "crm_manager", "dept_head", "ceo", "gm")}
        me = (await client.get("/api/v1/me", headers=tokens["crm_manager"])).json()
        handler_id = (await client.get("/api/v1/me", headers=tokens["dept_head"])).json()["user_id"]
        store_id = me["store_ids"][0]
        month = f"{datetime.now():%Y-%m}"
        intaken: asyncio.Queue[int] = asyncio.Queue()
        deadline = time.monotonic() + seconds

        async def intake(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < deadline:
                body = {"channel": "hotline_400", "content": "客户反映保养后发动机异响,要求尽快处理",
                        "store_id": store_id, "new_customer_name": "压测客户",
                        "new_customer_mobile": f"139{rng.randrange(10**8):08d}"}
                created = await stats.call("intake", client.post("/api/v1/complaints/", json=body,
                                                                 headers=tokens["callcenter"]))
                if created:
                    intaken.put_nowait(created["id"])

        async def store_work(_: int) -> None:
            while time.monotonic() < deadline:
                try:
                    complaint_id = await asyncio.wait_for(intaken.get(), timeout=max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    return
                url = f"/api/v1/complaints/{complaint_id}"
                if await stats.call("accept", client.post(f"{url}/accept", json={}, headers=tokens["crm_manager"])) \
                        and await stats.call("assign", client.post(
                            f"{url}/assign", json={"handler_user_id": handler_id, "department": "service"},
                            headers=tokens["crm_manager"])):
                    await stats.call("handle", client.post(
                        f"{url}/analyse", json={"cause_category": "service", "department": "service",
                                                "liability": "liable"}, headers=tokens["dept_head"]))

        async def dashboard(_: int) -> None:
            while time.monotonic() < deadline:
                await stats.call("dashboard", client.get("/api/v1/dashboards/stores",
                                                         params={"period": "month", "month": month},
                                                         headers=tokens["ceo"]))

        async def read(n: int) -> None:
            while time.monotonic() < deadline:
                if n % 2:
                    # The store GM reads mobiles masked: a list costs no personal-data allowance (crm.privacy.limits),
                    # which a reader in clear exhausts within the first minute of this loop.
                    await stats.call("read: complaint list", client.get(
                        "/api/v1/complaints/", params={"store_id": store_id}, headers=tokens["gm"]))
                else:
                    await stats.call("read: dashboard", client.get(
                        "/api/v1/dashboards/stores", params={"period": "month", "month": month},
                        headers=tokens["ceo"]))

        kinds = {"intake": intake, "store_work": store_work, "dashboard": dashboard, "read": read}
        started = time.monotonic()
        await asyncio.gather(*(kinds[kind](n) for kind, count in users.items() for n in range(count)))
        return stats, time.monotonic() - started


async def _token(client, who: str) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/token",
                               json={"group_code": GROUP_CODE, "username": who, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _report(stats: Stats, elapsed: float) -> str:
    lines = [f"{elapsed:.1f} s", "| kind | requests | errors | requests/s | p50 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, times in stats.times.items():
        q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        statuses = ", ".join(f"{n}× {code}" for code, n in sorted(stats.statuses[kind].items()))
        errors = f"{stats.errors[kind]} ({statuses})" if statuses else "0"
        lines.append(f"| {kind} | {len(times)} | {errors} | {len(times) / elapsed:.1f} | "
                     f"{q[49] * 1000:.0f} | {q[94] * 1000:.0f} | {q[98] * 1000:.0f} |")
    total = sum(len(t) for t in stats.times.values())
    lines.append(f"| all | {total} | {sum(stats.errors.values())} | {total / elapsed:.1f} | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
