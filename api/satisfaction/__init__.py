"""Satisfaction and scoring (满意度与考核): mystery-shopper checklists and audits.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`.
"""

from api.satisfaction import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
