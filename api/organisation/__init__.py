"""Group organisation (组织架构) and people (人员管理): divisions, regions, stores and users.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`.
"""

from api.organisation import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
