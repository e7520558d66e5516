"""The audit log (操作日志): who changed what, when, before → after; filtered, paged and exported.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`.
"""

from api.audit import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
