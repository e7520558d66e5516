"""客户资料导入: upload a DMS export (XLSX or CSV); it is imported by a background job (`crm.imports`) whose
progress page (`api.imports.pages`) polls until the per-row report is there. Checked and written by
`crm.customers.importer`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from api.auth import requires
from api.imports.pages import to_job
from api.settings.menu import settings_context
from api.web.forms import optional_int, store_choices
from crm.customers import importer
from crm.imports import service as imports
from tenants.errors import FieldProblem, InvalidInput
from tenants.scope import Scope


@get("/settings/customer-import", guards=[requires(*importer.IMPORTERS)], include_in_schema=False)
async def import_page(actor: Scope) -> Template:
    return await _page(actor)


@post("/settings/customer-import", guards=[requires(*importer.IMPORTERS)], include_in_schema=False,
      request_max_body_size=importer.MAX_FILE_BYTES + 64 * 1024)
async def import_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect | ClientRedirect:
    """Keep the file and start its import job; the browser goes to the job's progress page."""
    form = await request.form()
    upload = form.get("file")
    store_id = optional_int(str(form.get("store_id", "")))
    accept = form.get("accept_valid_rows") == "1"
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput([FieldProblem("file", "请选择文件", "Choose a file")])
        job = await imports.start_import(
            actor=actor, kind="customers", store_id=store_id, filename=upload.filename, upload=upload.file,
            accept_valid_rows=accept,
        )
    except InvalidInput as problem:
        return await _page(actor, store_id=store_id, accept=accept, errors=problem.problems, status_code=400)
    return to_job(request, job)


ROUTES = [import_page, import_submit]


async def _page(actor: Scope, *, store_id: int | None = None, accept: bool = False,
                errors: list | None = None, status_code: int = 200) -> Template:
    return Template("settings/customer_import.html", status_code=status_code, context={
        **settings_context(actor, "customer_import"), "errors": errors or [], "accept": accept,
        "stores": await store_choices(actor), "store_id": store_id, "choose_store": actor.is_group_level,
    })
