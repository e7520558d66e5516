"""The reports page (报表中心): the caller's reports with their state and downloads, and a form to ask for one."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.reports.routes import MEDIA
from api.web.forms import existing_id
from crm import clock
from crm.reports import records, service
from crm.reports.figures import KINDS
from crm.reports.service import REPORT_READERS
from tenants.errors import InvalidInput
from tenants.scope import Scope
from tenants.tables import Store

GUARDS = [requires(*REPORT_READERS)]


class AskPost(msgspec.Struct):
    kind: str = ""
    month: str = ""
    store_id: str = ""


@get("/reports", guards=GUARDS, include_in_schema=False)
async def reports_page(actor: Scope) -> Template:
    return await _page(actor)


@post("/reports", guards=GUARDS, include_in_schema=False)
async def ask_submit(actor: Scope, data: Annotated[AskPost, Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Template | Redirect:
    try:
        store_id = _store_id(data.store_id) if not KINDS.get(data.kind) or not KINDS[data.kind].for_group else None
        await service.request_report(actor=actor, kind=data.kind, month=data.month, store_id=store_id)
    except InvalidInput as problem:
        return await _page(actor, errors=problem.problems, status_code=400)
    return Redirect(path="/reports", status_code=HTTP_303_SEE_OTHER)


@get("/reports/{report_id:int}/download", guards=GUARDS, include_in_schema=False)
async def download_page(actor: Scope, report_id: int,
                        format: Annotated[str, Parameter(query="format", max_length=4)] = "pdf") -> Response:
    path, name = await service.report_file(actor=actor, report_id=report_id, format=format)
    return Response(content=path.read_bytes(), media_type=MEDIA[format],
                    headers={"Content-Disposition": f"attachment; filename=\"report.{format}\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


@get("/complaints/{complaint_id:int}/print", include_in_schema=False)
async def print_complaint(actor: Scope, complaint_id: int) -> Response:
    """客户投诉记录表 (attachment 6) of one complaint, for whoever may see it."""
    pdf, name = await records.complaint_record_pdf(actor=actor, complaint_id=complaint_id)
    return Response(content=pdf, media_type=MEDIA["pdf"],
                    headers={"Content-Disposition": f"inline; filename=\"complaint.pdf\"; filename*=UTF-8''{quote(name)}"})


@get("/major/{major_id:int}/print", include_in_schema=False)
async def print_major_report(actor: Scope, major_id: int) -> Response:
    """重大投诉事件处理报告 (attachment 8) of one major complaint, for whoever may see its page."""
    existing_id(major_id, "major")
    pdf, name = await records.major_report_pdf(actor=actor, major_id=major_id)
    return Response(content=pdf, media_type=MEDIA["pdf"],
                    headers={"Content-Disposition": f"inline; filename=\"major.pdf\"; filename*=UTF-8''{quote(name)}"})


async def _page(actor: Scope, *, errors=(), status_code: int = 200) -> Template:
    stores = await Store.select(Store.id, Store.name).where(Store.id.is_in(sorted(actor.store_ids) or [-1]),
                                                           Store.group == (actor.group_id or -1)).order_by(Store.code)
    now = clock.now()
    last_month = f"{now.year - (now.month == 1)}-{(now.month - 2) % 12 + 1:02d}"
    return Template("reports/page.html", status_code=status_code, context={
        "reports": await service.list_reports(actor=actor), "stores": stores, "month": last_month,
        "kinds": [k for k in KINDS.values() if service.may_request(actor, k)], "errors": errors,
        "busy": ("queued", "rendering"),
    })


def _store_id(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 2**31 - 1:
        raise InvalidInput.one("store_id", "请选择门店", "Choose a store")
    return int(value)


ROUTES = [reports_page, ask_submit, download_page, print_complaint, print_major_report]
