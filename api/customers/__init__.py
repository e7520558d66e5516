"""Customer records (客户档案): search, records, imports, corrections — JSON routes and pages.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`, `static/`.
"""

from api.customers import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
