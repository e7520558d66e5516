"""Accounts (账号): changing one's own password, and activating a new account by its one-time link.

One folder per area: `routes` (JSON under /api/v1), `pages` (web UI), `templates/`.
"""

from api.accounts import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
