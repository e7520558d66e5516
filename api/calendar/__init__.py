"""Calendar (工作日历): the group's and stores' calendar settings and holiday overrides.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`, `static/`.
"""

from api.calendar import routes

ROUTES = [*routes.ROUTES]
