"""Piccolo's configuration: the engine comes from DATABASE_URL (SQLite when unset)."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from crm.settings import get_settings
from crm.sqlite import PooledSQLiteEngine


def engine_from_url(url: str):
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        # A busy timeout: a writer outside `crm.db.transaction()` waits for the lock rather than failing.
        return PooledSQLiteEngine(path=path, timeout=30)
    parsed = urlparse(url)
    return PostgresEngine(
        config={
            "host": parsed.hostname or "localhost",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username or "postgres"),
            "password": unquote(parsed.password or ""),
            "database": (parsed.path or "/dealerdesk").lstrip("/"),
        },
        log_queries=False,
    )


DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "tenants.piccolo_app",
        "crm.customers.piccolo_app",
        "crm.timers.piccolo_app",
        "crm.notify.piccolo_app",
        "crm.calendar.piccolo_app",
        "crm.callbacks.piccolo_app",
        "crm.complaints.piccolo_app",
        "crm.major.piccolo_app",
        "crm.analytics.piccolo_app",
        "crm.reports.piccolo_app",
        "crm.satisfaction.piccolo_app",
        "crm.privacy.piccolo_app",
        "crm.imports.piccolo_app",
    ]
)
