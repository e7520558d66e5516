"""Complaints (投诉): intake, handling, revisits, accountability — JSON routes and pages.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`, `static/`.
"""

from api.complaints import attachments, pages, routes

ROUTES = [*routes.ROUTES, *attachments.ROUTES, *pages.ROUTES]
