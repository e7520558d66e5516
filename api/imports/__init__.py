"""Import jobs (导入任务): the progress and report of an import running in the background, as JSON and as a page."""

from api.imports import pages, routes

ROUTES = [*routes.ROUTES, *pages.ROUTES]
