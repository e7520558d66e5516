"""The dashboards area (集团看板): JSON routes, pages, templates and static files in one folder.

`api/app.py` adds `ROUTES`, `TEMPLATES` (a template directory beside the shared one) and `STATIC`
(served under `/static/`, file names prefixed `dashboards`).
"""

from pathlib import Path

from api.dashboards import pages, routes

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
ROUTES = [*routes.ROUTES, *pages.ROUTES]
