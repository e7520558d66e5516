"""Prometheus `/metrics` for operators: requests (by route template), the job queue, timer lateness, notifications.

Prometheus cannot sign in, so operators give it the bearer token of `METRICS_TOKEN`; without that setting the
endpoint does not exist (404), and a wrong token is refused. Request counts and durations come from Litestar's
Prometheus middleware; the queue and deadline figures are read at scrape time (crm/health.py).
"""

from __future__ import annotations

import hmac

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from crm.health import operations
from crm.settings import get_settings

PREFIX = "dealerdesk"

# Route templates, not raw paths, as labels: `/api/v1/complaints/{complaint_id:int}` stays one series.
request_metrics = PrometheusConfig(app_name=PREFIX, prefix=PREFIX, group_path=True, exclude=["/metrics", "/static"])

_FIGURES = {
    "queue_depth": "Jobs waiting in the arq queue",
    "worker_heartbeat_age_seconds": "Seconds since the worker's sweeper last ran (-1: never seen)",
    "timers_overdue": "Pending timers past their due time",
    "timer_lateness_seconds": "How late the oldest overdue timer is",
    "notifications_failed": "Notifications that gave up after their retries",
    "notifications_waiting": "Notifications pending or being sent",
}


@get("/metrics", exclude_from_auth=True, include_in_schema=False)
async def metrics(request: Request) -> Response[bytes]:
    refusal = _refusal(request.headers.get("authorization", ""))
    if refusal is not None:
        return refusal
    figures = CollectorRegistry()
    for name, value in (await operations()).items():
        Gauge(f"{PREFIX}_{name}", _FIGURES[name], registry=figures).set(value)
    return Response(generate_latest(REGISTRY) + generate_latest(figures), media_type=CONTENT_TYPE_LATEST)


def _refusal(authorization: str) -> Response[bytes] | None:
    """Plain answers for a scraper (never the sign-in page a browser would be sent to)."""
    token = get_settings().metrics_token
    if not token:
        return Response(b"metrics are off: set METRICS_TOKEN\n", status_code=404, media_type="text/plain")
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return Response(b"operators' token required\n", status_code=401, media_type="text/plain",
                        headers={"WWW-Authenticate": "Bearer"})
    return None
