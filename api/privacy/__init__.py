"""Personal data (个人信息): the access log for the group admin, and the pieces the areas' reveal actions share.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`.
"""

from api.privacy import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
