"""Browser tests: the real app served by uvicorn in a subprocess, driven by Debian's headless Chromium.

A browser test lives with its area as `tests/<area>/test_browser_*.py` and uses the fixtures of
tests/conftest.py: `live_server` (base URL), `browser` (one Chromium for the session), `page` (a
fresh context per test, 1366×768, zh-CN) and `sign_in(page, username)`; the helpers they use are
here. Such tests run on the server's clock, the session's pinned timeline.

Never `playwright install`: the browser is the distribution's `/usr/bin/chromium`
(the README's test command installs it); without it these tests are skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.services import wait_until_healthy
from tests.support.clock import pinned_command, pinned_env, session_now

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60


def is_browser_test(item: pytest.Item) -> bool:
    return Path(str(item.fspath)).name.startswith("test_browser_")


def mark_browser_tests(items: list[pytest.Item]) -> None:
    """`e2e` on every browser test; skipped (with the reason) where Chromium is missing."""
    for item in items:
        if is_browser_test(item):
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium"))


@contextmanager
def served_app() -> Iterator[str]:
    """The app under uvicorn on a free port, with the session's DATABASE_URL/REDIS_URL from the environment."""
    from deploy.services import free_port

    port = free_port()
    log_path = Path(os.environ.get("DEALERDESK_VAR", "/tmp")) / f"uvicorn-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            pinned_command("uvicorn", "--factory", "api.app:create_app",
                           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            cwd=ROOT, env=pinned_env(at=session_now()), stdout=log, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def sign_in_page(page, username: str, password: str | None = None, next_path: str = "/",
                       group_code: str | None = None) -> None:
    """Sign in through the login form (default: the test users' password and the user's own group code)."""
    from tests.support.builders import PASSWORD, group_code_of  # imports the tables: only once the session chose its database

    await page.goto(f"/login?next={next_path}")
    await page.fill("input[name=group_code]", await group_code_of(username) if group_code is None else group_code)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password or PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")


def _wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Wait for /health; a server that exits or never answers fails with its log."""
    try:
        wait_until_healthy(f"{base_url}/health", process, STARTUP_TIMEOUT_S)
    except RuntimeError as exc:
        raise RuntimeError(f"uvicorn: {exc}\n{log_path.read_text()}") from None
