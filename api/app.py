"""The Litestar application factory: middleware, routes, templates and the database pool's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api import (
    calendar, callbacks, complaints, customers, dashboards, imports, major, notifications, organisation, privacy,
    reports, satisfaction, web,
)
from api import accounts, audit, platform
from api import settings as settings_screens
from api.web import templating
from api.auth import PUBLIC_PATHS, AuthMiddleware, create_token, me, provide_scope, revoke
from api.errors import exception_handlers
from api.metrics import metrics, request_metrics
from api.openapi import add_examples
from api.security import JsonLimits, security_headers
from crm.logs import configure_logging
from crm.settings import Settings, get_settings
from crm.privacy import vault
from crm.wiring import connect_all
from tenants.scope import TtlCache

HERE = Path(__file__).parent


@get("/health", exclude_from_auth=True, tags=["ops"])
async def health() -> Response[dict]:
    """Readiness: database, Redis, the worker's heartbeat and overdue timers; 503 when deadlines are not fired."""
    from crm.health import readiness

    ready, report = await readiness()
    return Response({"status": "ok" if ready else "stalled", **report}, status_code=200 if ready else 503)


@get("/health/live", exclude_from_auth=True, tags=["ops"])
async def live() -> dict[str, str]:
    """The process answers (for a load balancer or a liveness probe: a late worker is no reason to restart it)."""
    return {"status": "ok"}


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging()
    vault.get_keys()  # refuse to start without the keys of customers' personal data
    connect_all()
    caller_cache = TtlCache(settings.scope_cache_seconds)
    session = CookieBackendConfig(
        secret=bytes.fromhex(settings.secret_key)[:32].ljust(32, b"\0"),
        key="dealerdesk_session",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        max_age=12 * 3600,
        exclude="^/api/",  # API clients carry a bearer token: no cookie to read or write on their requests
    )
    app = Litestar(
        route_handlers=[
            health,
            live,
            metrics,
            create_token,
            revoke,
            me,
            *customers.ROUTES,
            *imports.ROUTES,
            *major.ROUTES,
            *notifications.ROUTES,
            *calendar.ROUTES,
            *complaints.ROUTES,
            *callbacks.ROUTES,
            *web.ROUTES,
            *dashboards.ROUTES,
            *reports.ROUTES,
            *satisfaction.ROUTES,
            *privacy.ROUTES,
            *accounts.ROUTES,
            *platform.ROUTES,
            *audit.ROUTES,
            *organisation.ROUTES,
            *settings_screens.ROUTES,
            create_static_files_router(path="/static", directories=_asset_dirs("static")),
        ],
        dependencies={"actor": Provide(provide_scope)},
        middleware=[request_metrics.middleware, JsonLimits, session.middleware, DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS, cache=caller_cache)],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=False,
            exclude=["/api/"],
        ),
        template_config=TemplateConfig(
            directory=_asset_dirs("templates"), engine=JinjaTemplateEngine, engine_callback=templating.configure
        ),
        exception_handlers=exception_handlers(),
        before_send=[security_headers(hsts=settings.secure_cookies)],
        openapi_config=OpenAPIConfig(title="dealerdesk API", version="1.0.0", path="/schema",
                                     use_handler_docstrings=True),
        lifespan=[_database_pool, _queue],
        debug=settings.debug,
        state=State({"caller_cache": caller_cache}),
    )
    add_examples(app.openapi_schema)  # the document every /schema page serves: built once, with examples
    return app


@asynccontextmanager
async def _database_pool(_: Litestar):
    """PostgreSQL gets a connection pool for the app's lifetime; SQLite needs none."""
    from crm.db import start_pool, stop_pool

    await start_pool(max_size=10)
    try:
        yield
    finally:
        await stop_pool()


@asynccontextmanager
async def _queue(_: Litestar):
    """The arq pool (for enqueueing after commit and live notifications) is opened on first use, closed here."""
    from crm.queue import close_queue

    try:
        yield
    finally:
        await close_queue()


def _asset_dirs(kind: str) -> list[Path]:
    """The shared `api/web/<kind>` and every area's `api/<area>/<kind>` (templates are named `<area>/x.html`)."""
    return [HERE / "web" / kind, *sorted(p for p in HERE.glob(f"*/{kind}") if p.parent.name != "web")]
