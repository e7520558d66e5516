"""Shared fixtures: real PostgreSQL and Redis for the whole run, the app, tenants to test with.

Services start in `pytest_configure`, before any test module imports the code,
because the Piccolo engine is chosen from DATABASE_URL at import time.
`TEST_DATABASE_URL` / `TEST_REDIS_URL` point the suite at existing servers instead.
"""

from __future__ import annotations

import asyncio
import os
import tempfile

import pytest
import time_machine

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    is_browser_test,
    mark_browser_tests,
    served_app,
    sign_in_page,
)
from tests.support.clock import PINNED, session_now
from tests.support.keys import TEST_PII_HASH_KEY, TEST_PII_KEYS

_services: list = []


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("DEALERDESK_TEST_STARTED"):
        return  # a child process (e.g. a worker started by a test) inherits the environment
    from deploy.services import start_postgres, start_redis

    os.environ["DEALERDESK_TEST_STARTED"] = "1"
    os.environ["DEALERDESK_VAR"] = tempfile.mkdtemp(prefix="dealerdesk-test-var-")
    os.environ.setdefault("SECRET_KEY", "0" * 64)
    # The keys of customers' personal data (`crm.privacy.vault`): fixed test keys, never a deployment's.
    os.environ.setdefault("PII_KEYS", TEST_PII_KEYS)
    os.environ.setdefault("PII_HASH_KEY", TEST_PII_HASH_KEY)
    if os.environ.get("TEST_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    else:
        pg = start_postgres()
        _services.append(pg)
        os.environ["DATABASE_URL"] = pg.url
    if os.environ.get("TEST_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    else:
        redis = start_redis()
        _services.append(redis)
        os.environ["REDIS_URL"] = redis.url

    from crm.timers import registry
    from crm.wiring import connect_all
    from deploy.migrations import migrate
    from tests.support import timer_handlers

    asyncio.run(migrate())
    connect_all()
    registry.register(timer_handlers.HANDLERS)


def pytest_unconfigure(config: pytest.Config) -> None:
    for service in reversed(_services):
        service.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_browser_tests(items)


@pytest.fixture(autouse=True)
def pinned_clock(request):
    """Every test starts at the same workday morning, China time, whatever the machine's clock says.

    Time ticks on from there; a test that needs another instant travels inside this one
    (`time_machine.travel(…)`), see tests/support/clock.py for the named instants. Browser tests
    share the server's clock instead: the session's pinned timeline.
    """
    start = session_now() if is_browser_test(request.node) else PINNED
    with time_machine.travel(start, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def fresh_sign_in_counters():
    """Every test starts with no sign-in failures counted. They are counted per account and per address in
    Redis, and every test starts at the same pinned instant, so the wrong passwords of earlier tests (all
    from the test client's one address) would otherwise add up until its sign-ins are throttled (429)."""
    import redis

    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        stale = list(client.scan_iter("dealerdesk:signin:*", count=1000))
        if stale:
            client.delete(*stale)
    yield


@pytest.fixture(scope="session")
async def db_pool():
    """One asyncpg pool for the whole session (tests share the session event loop), made as the app makes it."""
    from crm.db import engine, start_pool, stop_pool

    await start_pool(max_size=20)
    yield engine()
    await stop_pool()


@pytest.fixture(scope="session")
async def app(db_pool):
    from api.app import create_app

    return create_app()


@pytest.fixture(scope="session")
async def client(app):
    """An HTTP client speaking to the app in-process (the app's lifespan is not run: db_pool owns the pool)."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def browser_session(app):
    """Opens cookie-keeping clients against the app; `await browser_session(username)` signs one in."""
    import httpx

    from tests.support.web import sign_in

    opened: list[httpx.AsyncClient] = []

    async def open_session(username: str | None = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        opened.append(client)
        if username is not None:
            response = await sign_in(client, username)
            assert response.status_code == 303, response.text
        return client

    yield open_session
    for client in opened:
        await client.aclose()


@pytest.fixture
async def tenant(db_pool):
    """A fresh group with brand divisions, stores and one user per role.

    The group is the test's own data: a test sweeps and promotes only its groups' timers
    (`runner.sweep(groups=[tenant.group_id])`, a worker started with `groups=`), and the
    timers still pending when it ends are cancelled, so no later test, and no worker a later
    test starts, fires them.
    """
    from tests.support.builders import end_timers, make_tenant

    tenant = await make_tenant()
    yield tenant
    await end_timers(tenant)


@pytest.fixture
async def other_tenant(db_pool):
    """A second, unrelated group: its users must never see the first group's data."""
    from tests.support.builders import end_timers, make_tenant

    tenant = await make_tenant()
    yield tenant
    await end_timers(tenant)


@pytest.fixture
async def world(tenant):
    """The customer area's small cross-store world (tests/support/customers.py)."""
    from tests.support.customers import make_world

    return await make_world(tenant)


@pytest.fixture(scope="session")
async def effect_table(db_pool):
    """The table the test timer handlers (tests/support/timer_handlers.py) write their effects to."""
    from crm.timers.tables import Timer
    from tests.support.timer_handlers import EFFECT_TABLE_DDL

    await Timer.raw(EFFECT_TABLE_DDL)


@pytest.fixture
def settle_timers(tenant):
    """Old name: `tenant` now cancels its pending timers itself. Delete once no test names it."""


# Browser tests (tests/<area>/test_browser_*.py); helpers in tests/support/browser.py.


@pytest.fixture(scope="session")
def live_server(db_pool):
    """The app under uvicorn on a free port, on the session's pinned timeline; yields its base URL."""
    with served_app() as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def browser():
    """One headless Chromium (the distribution's) for the session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser, live_server):
    """A fresh browser context per test: 1366×768, zh-CN.

    Playwright's wait_for_function evaluates strings, which the app's CSP (no eval) refuses in the page:
    the context bypasses the CSP (which tests/security/test_headers.py checks).
    """
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
def sign_in():
    """`await sign_in(page, username)`: through the login form."""
    return sign_in_page
