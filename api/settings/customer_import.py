"""客户资料导入: upload a DMS export (XLSX or CSV), read the per-row error report, and import the valid rows on
request. Checked and written by `crm.customers.importer`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from api.auth import requires
from api.i18n import extend
from api.settings.menu import settings_context
from api.web.forms import optional_int, store_choices
from crm.customers import importer
from tenants.errors import FieldProblem, InvalidInput
from tenants.scope import Scope

extend({
    "settings.import.file": ("文件(Excel .xlsx 或 CSV,UTF-8/GBK)", "File (Excel .xlsx or CSV, UTF-8/GBK)"),
    "settings.import.accept": ("导入有效行,跳过有错误的行", "Import the valid rows, skip the rows with errors"),
    "settings.import.submit": ("上传并检查", "Upload and check"),
    "settings.import.report": ("导入报告", "Import report"),
    "settings.import.imported": ("已导入。", "Imported."),
    "settings.import.not_imported": (
        "文件有错误,未导入任何数据。请修改后重新上传,或勾选“导入有效行”后再次上传同一文件。",
        "The file has errors; nothing was imported. Fix it and upload again, or tick “import the valid rows” and upload it again.",
    ),
    "settings.import.rows": ("共 {total} 行,有效 {valid} 行,有错误 {bad} 行", "{total} rows: {valid} valid, {bad} with errors"),
    "settings.import.counts": ("客户 {customers} · 车辆 {vehicles} · 销售 {sales} · 维修 {visits}",
                               "customers {customers} · vehicles {vehicles} · sales {sales} · visits {visits}"),
    "settings.import.unknown": ("未识别的列(已忽略)", "Columns not recognised (ignored)"),
    "settings.import.row": ("行号", "Row"),
    "settings.import.column": ("列", "Column"),
    "settings.import.problem": ("问题", "Problem"),
})


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
