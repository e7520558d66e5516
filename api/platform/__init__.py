"""The platform console (平台管理): dealer groups, their first admin, suspension, size and activity.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`.
"""

from api.platform import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
