"""Reports (报表): JSON routes, the reports page and its template, like every area."""

from api.reports import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
