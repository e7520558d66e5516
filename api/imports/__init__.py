"""Import jobs (导入任务): the progress and report of an import running in the background."""

from api.imports import routes

ROUTES = [*routes.ROUTES]
