"""Major complaints (重大投诉): marking, the report, the escalation ladder, the HQ board.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`, `static/`.
"""

from api.major import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
