"""客户资料导入: upload a DMS export (XLSX or CSV), read the per-row error report, and import the valid rows on
request. Checked and written by `crm.customers.importer`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from api.auth import requires
from api.settings.menu import settings_context
from api.web.forms import optional_int, store_choices
from crm.customers import importer
from tenants.errors import FieldProblem, InvalidInput
from tenants.scope import Scope


COUNT_TITLES = {"created": ("新建", "Created"), "updated": ("更新", "Updated"), "unchanged": ("未变", "Unchanged")}


@get("/settings/customer-import", guards=[requires(*importer.IMPORTERS)], include_in_schema=False)
async def import_page(actor: Scope) -> Template:
    return await _page(actor)


@post("/settings/customer-import", guards=[requires(*importer.IMPORTERS)], include_in_schema=False,
      request_max_body_size=importer.MAX_FILE_BYTES + 64 * 1024)
async def import_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template:
    form = await request.form()
    upload = form.get("file")
    store_id = optional_int(str(form.get("store_id", "")))
    accept = form.get("accept_valid_rows") == "1"
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput([FieldProblem("file", "请选择文件", "Choose a file")])
        report = await importer.import_file(
            actor=actor, store_id=store_id, filename=upload.filename, content=upload.file,  # read as a stream
            accept_valid_rows=accept,
        )
    except InvalidInput as problem:
        return await _page(actor, store_id=store_id, accept=accept, errors=problem.problems, status_code=400)
    return await _page(actor, store_id=store_id, accept=accept, report=report,
                       status_code=200 if report.imported else 400)


ROUTES = [import_page, import_submit]


async def _page(actor: Scope, *, store_id: int | None = None, accept: bool = False, report: importer.ImportReport | None = None,
                errors: list | None = None, status_code: int = 200) -> Template:
    return Template("settings/customer_import.html", status_code=status_code, context={
        **settings_context(actor, "customer_import"), "errors": errors or [], "report": report, "count_titles": COUNT_TITLES, "accept": accept,
        "stores": await store_choices(actor), "store_id": store_id, "choose_store": actor.is_group_level,
    })
