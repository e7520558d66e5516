"""Callbacks and care (回访与关怀): rules, work queue, statistics, the DMS webhook, and the agents' pages.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`, `static/`.
"""

from api.callbacks import dms, pages, routes

ROUTES = [*routes.ROUTES, *dms.ROUTES, *pages.ROUTES]
