"""Dashboards (集团看板): JSON routes, pages, templates and static files in one folder, like every area."""

from api.dashboards import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
