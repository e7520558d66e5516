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

from tests.support.clock import PINNED

_services: list = []


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("DEALERDESK_TEST_STARTED"):
        return  # a child process (e.g. a worker started by a test) inherits the environment
    from deploy.services import start_postgres, start_redis

    os.environ["DEALERDESK_TEST_STARTED"] = "1"
    os.environ["DEALERDESK_VAR"] = tempfile.mkdtemp(prefix="dealerdesk-test-var-")
    os.environ.setdefault("SECRET_KEY", "0" * 64)
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


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test starts at the same workday morning, China time, whatever the machine's clock says.

    Time ticks on from there; a test that needs another instant travels inside this one
    (`time_machine.travel(…)`), see tests/support/clock.py for the named instants.
    """
    with time_machine.travel(PINNED, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session")
async def db_pool():
    """One asyncpg pool for the whole session (tests share the session event loop)."""
    from piccolo_conf import DB

    await DB.start_connection_pool(min_size=1, max_size=20)
    yield DB
    await DB.close_connection_pool()


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
async def tenant(db_pool):
    """A fresh group with brand divisions, stores and one user per role."""
    from tests.factories import make_tenant

    return await make_tenant()


@pytest.fixture
async def other_tenant(db_pool):
    """A second, unrelated group: its users must never see the first group's data."""
    from tests.factories import make_tenant

    return await make_tenant()
