"""Notifications (通知): the bell, the inbox, channel settings, delivery failures.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`, `static/`.
"""

from api.notifications import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
