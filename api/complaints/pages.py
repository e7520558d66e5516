"""Complaint pages (投诉): the call-center intake screen, the store inbox / group list with deadline
countdowns, the complaint page with its timeline and the viewer's actions, the revisit queue and
staff accountability.

Thin like the JSON API: forms are read here and handed to `crm.complaints`; a refused step
(wrong state, wrong role, bad input) re-renders the page with the reason.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.complaints.attachments import panel_context as attachment_panel
from api.i18n import language_of
from api.lists import ListView, export_response, filtered_by
from api.privacy.pages import revealed_fragment
from api.web.forms import existing_id, optional_int, required_int, store_choices
from crm import clock
from crm.complaints import accountability as accounts
from crm.complaints import queries, result_report, service, workflow
from crm.complaints.deadlines import KIND_TITLES, URGENCIES
from crm.complaints.service import CAUSES, CHANNELS, COMPENSATION_KINDS, DEPARTMENTS, LIABILITY
from crm.complaints.workflow import STATE_TITLES
from crm.customers.validation import normalise_mobile
from crm.major import repeats
from crm.major import service as major_service
from crm.major.service import MARKERS as MAJOR_MARKERS
from crm.major.service import major_flags
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.roles import ROLE_TITLES
from tenants.scope import Scope, timezone_of

INTAKE_PATH = "/complaint-intake"
REVISIT_PATH = "/revisits"
ACCOUNTABILITY_PATH = "/accountability"

LABELS = {
    "state": {str(k): v for k, v in STATE_TITLES.items()},
    "channel": CHANNELS,
    "cause": CAUSES,
    "department": DEPARTMENTS,
    "liability": LIABILITY,
    "compensation_kind": COMPENSATION_KINDS,
    "deadline": KIND_TITLES,
    "urgency": URGENCIES,
    "report_state": result_report.STATE_TITLES,
    "report_status": {
        "submitted": ("待检核", "Awaiting check"),
        "accepted": ("检核通过", "Accepted"),
        "returned": ("已退回", "Sent back"),
    },
    "role": {str(k): v for k, v in ROLE_TITLES.items()},
    "action": {
        **{name: (a.label_zh, a.label_en) for name, a in workflow.ACTIONS.items()},
        "create": ("登记投诉", "Complaint recorded"),
        "deadline_missed": ("超时", "Deadline missed"),
        "repeat_flagged": ("疑似重复投诉", "Suspected repeat complaint"),
        "repeat_decided": ("判断重复投诉", "Repeat complaint decided"),
        "repeat_overdue": ("重复投诉判断超时", "Repeat decision overdue"),
        "crisis_meeting": ("危机处理小组会议", "Crisis-team meeting"),
        "attachment_added": ("上传附件", "Attachment added"),
        "attachment_removed": ("删除附件", "Attachment removed"),
    },
    "appeal_status": {
        "filed": ("待部门主管提报", "Awaiting department head"),
        "forwarded": ("待总经理裁决", "Awaiting GM ruling"),
        "declined": ("部门主管驳回", "Declined by the department head"),
        "upheld": ("申诉成功（投诉作废）", "Upheld (complaint voided)"),
        "rejected": ("申诉驳回", "Rejected"),
    },
    "repeat_decision": {d.value: (d.title_zh, d.title_en) for d in repeats.Decision},
    "compensation_status": {
        "pending": ("待审批", "Pending"),
        "approved": ("已批准", "Approved"),
        "rejected": ("已驳回", "Rejected"),
    },
}


# ---------------------------------------------------------------- lists


def complaint_page_filter(
    actor: Scope,
    in_state: Annotated[str, Parameter(query="state")] = "",
    store: str = "",
    channel: str = "",
    overdue: str = "",
    open: str = "1",
    q: str = "",
) -> queries.ComplaintFilter:
    """The list's filters from the URL; a value the list does not know (a state, a store not the reader's) keeps
    every row, as the filter's "any" choice would."""
    store_id = optional_int(store)
    return queries.ComplaintFilter(
        state=in_state if in_state in LABELS["state"] else None,
        store_id=store_id if store_id in actor.store_ids else None,
        channel=channel if channel in CHANNELS else None,
        overdue_only=overdue == "1", open_only=open == "1", q=q[:60])


@get("/complaints", guards=[requires(*workflow.READERS)], include_in_schema=False)
@filtered_by(complaint_page_filter)
async def complaint_list(
    actor: Scope, filters: queries.ComplaintFilter, sort: str = "", page: str = "", page_size: str = "",
) -> Template:
    """A store's inbox, or the group's list of every routed complaint: urgent and overdue first, any column sorts."""
    want = queries.COMPLAINT_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await queries.list_complaints(actor=actor, filters=filters, want=want)
    ids = [c.id for c in found.items]
    return Template("complaints/list.html", context={
        "items": found.items, "filters": filters, "stores": await store_choices(actor), "labels": LABELS,
        "view": ListView("/complaints", queries.COMPLAINT_LIST, want, found, _url_filters(filters),
                         export_path="/complaints/export"),
        "major": await major_flags(actor=actor, complaint_ids=ids),
        "repeat": await repeats.repeat_flags(actor=actor, complaint_ids=ids, pending_only=True),
    })


@get("/complaints/export", guards=[requires(*workflow.READERS)], include_in_schema=False)
@filtered_by(complaint_page_filter)
async def complaint_list_export(
    request: Request[Scope, Any, Any],
    actor: Scope,
    filters: queries.ComplaintFilter,
    sort: str = "",
    format: Annotated[str, Parameter(pattern="^(csv|xlsx)$")] = "xlsx",
) -> Response:
    """Every complaint of the list as shown (same filters and order, every page), masked as the viewer sees it."""
    items = await queries.export_complaints(actor=actor, filters=filters, want=queries.COMPLAINT_LIST.parse(sort=sort))
    return export_response(queries.COMPLAINT_EXPORT, items, format=format, name=queries.COMPLAINT_LIST.name,
                           zone=await timezone_of(group=actor.group_id), english=language_of(request) == "en")


def _url_filters(filters: queries.ComplaintFilter) -> dict[str, Any]:
    """The filters as the URL carries them (the open-only box is on unless the URL says open=0)."""
    return {"state": filters.state or "", "store": filters.store_id, "channel": filters.channel or "",
            "overdue": "1" if filters.overdue_only else "", "open": "" if filters.open_only else "0", "q": filters.q}


@get(REVISIT_PATH, guards=[requires(*workflow.REVISIT_ROLES)], include_in_schema=False)
async def revisit_page(actor: Scope, sort: str = "", page: str = "", page_size: str = "") -> Template:
    """The revisit queue (回访): resolved complaints whose customer is to be called, soonest first."""
    want = queries.REVISIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await queries.revisit_queue(actor=actor, want=want)
    return Template("complaints/revisits.html", context={
        "items": found.items, "labels": LABELS, "view": ListView(REVISIT_PATH, queries.REVISIT_LIST, want, found),
    })


@get(ACCOUNTABILITY_PATH, guards=[requires(*accounts.READERS)], include_in_schema=False)
async def accountability_page(actor: Scope, month: str = "") -> Template:
    """The month per staff member (有责, not handled in time, process violations and their ladder)."""
    return await _accountability(actor, month[:7], {}, None)


@post(f"{ACCOUNTABILITY_PATH}/violations", guards=[requires(*accounts.RECORDERS)], include_in_schema=False)
async def record_violation(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    """A store manager records a process violation (业务流程违规)."""
    form = dict((await request.form()).items())
    try:
        try:
            occurred_on = date.fromisoformat(form.get("occurred_on", "").strip())
        except ValueError:
            raise InvalidInput.one("occurred_on", "请填写日期", "Enter a date") from None
        await accounts.record_violation(
            actor=actor, staff_user_id=required_int(form, "staff_user_id"), department=form.get("department", ""),
            kind=form.get("kind", ""), occurred_on=occurred_on, description=form.get("description", "")[:2001],
            complaint_id=optional_int(form.get("complaint_id", ""), "complaint_id"),
        )
    except (InvalidInput, Forbidden) as refused:
        return await _accountability(actor, "", form, refused, status=400)
    return Redirect(path=f"{ACCOUNTABILITY_PATH}?month={occurred_on:%Y-%m}&ok=violation_recorded", status_code=HTTP_303_SEE_OTHER)


async def _accountability(
    actor: Scope, month: str, form: dict[str, str], refused: Exception | None, status: int = 200
) -> Template:
    month = month or await accounts.current_month(actor=actor)
    view = await accounts.accountability_month(actor=actor, month=month)
    staff = await queries.store_staff(actor=actor, store_id=actor.home_store_id) if view.may_record else []
    return Template("complaints/accountability.html", status_code=status, context={
        "view": view, "month": month, "staff": staff, "form": form, "errors": _messages(refused),
        "departments": accounts.DEPARTMENTS, "kinds": accounts.VIOLATION_KINDS,
        "today": clock.now().astimezone(await timezone_of(group=actor.group_id)).date(),
    })


# ---------------------------------------------------------------- intake


@get(INTAKE_PATH, guards=[requires(*workflow.INTAKE_ROLES)], include_in_schema=False)
async def intake_page(actor: Scope, caller: str = "") -> Template:
    """The intake form. A softphone or CTI system opens `?caller=<number>` on an incoming call (来电弹屏): the
    caller is looked up at once and taken when exactly one customer matches; an unknown number becomes the new
    customer's mobile."""
    number = normalise_mobile(caller)[:20]
    if not number.isdigit():  # withheld or unknown caller ("anonymous"): the plain form
        return await _intake(actor, {}, None)
    candidates = await queries.intake_candidates(actor=actor, q=number)
    form: dict[str, Any] = {"q": number}
    route_suggestion = None
    if len(candidates) == 1:
        customer = candidates[0]
        vehicle = customer.vehicles[0] if len(customer.vehicles) == 1 else None
        form |= {"customer_id": str(customer.customer_id), "vehicle_id": str(vehicle.id) if vehicle else "",
                 "chosen_text": " ".join(filter(None, (customer.name, customer.mobile, vehicle and vehicle.plate)))}
        if actor.is_group_level:
            route_suggestion = await service.suggest_store(actor=actor, customer_id=customer.customer_id,
                                                           vehicle_id=vehicle.id if vehicle else None)
            form["store_id"] = str(route_suggestion.store_id) if route_suggestion else ""
    elif not candidates:
        form["new_customer_mobile"] = number
    return await _intake(actor, form, None, candidates=candidates, route_suggestion=route_suggestion)


@get(f"{INTAKE_PATH}/lookup", guards=[requires(*workflow.INTAKE_ROLES)], include_in_schema=False)
async def intake_lookup(actor: Scope, q: str = "") -> Template:
    """The candidates fragment, as the agent types."""
    query = q.strip()[:60]
    found = await queries.intake_candidates(actor=actor, q=query) if query else []
    return Template("complaints/_candidates.html", context={"q": query, "candidates": found})


@get(f"{INTAKE_PATH}/take", guards=[requires(*workflow.INTAKE_ROLES)], include_in_schema=False)
async def intake_take(actor: Scope, customer_id: str = "", vehicle_id: str = "", text: str = "") -> Template:
    """Taking a candidate (a click, or Enter in the lookup): the chosen customer and car with the repeat check,
    and for the group the store picker with the suggested store (an out-of-band part)."""
    customer, vehicle = optional_int(customer_id, "customer_id"), optional_int(vehicle_id, "vehicle_id")
    if customer is None:
        raise InvalidInput.one("customer_id", "请选择客户", "Choose a customer")
    # a customer or vehicle out of the caller's scope is 404
    suggestion = await major_service.repeat_check_at_intake(actor=actor, customer_id=customer, vehicle_id=vehicle)
    route = None
    if actor.is_group_level:
        store = await service.suggest_store(actor=actor, customer_id=customer, vehicle_id=vehicle)
        route = {"stores": await store_choices(actor), "suggestion": store, "selected": store.store_id if store else None}
    form = {"customer_id": customer, "vehicle_id": vehicle or "", "chosen_text": text.strip()[:200]}
    return Template("complaints/_chosen.html", context={"form": form, "route": route,
                                                         **_repeat_context(actor, suggestion, {})})


@post(INTAKE_PATH, guards=[requires(*workflow.INTAKE_ROLES)], include_in_schema=False)
async def intake_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = dict((await request.form()).items())
    try:
        customer_id = optional_int(form.get("customer_id", ""), "customer_id")
        store_id = optional_int(form.get("store_id", ""), "store_id")
        if not actor.is_group_level:
            store_id = actor.home_store_id
        # A repeat of a customer the agent picked needs the agent's decision (same / different problem),
        # applied with the intake in one transaction; without one, group customer service decides later.
        complaint_id = await major_service.register_with_repeat_decision(
            actor=actor,
            repeat_decision=form.get("repeat_decision") or None,
            repeat_reason=form.get("repeat_reason", ""),
            decision_required=customer_id is not None and actor.has_role(*MAJOR_MARKERS),
            customer_id=customer_id,
            vehicle_id=optional_int(form.get("vehicle_id", ""), "vehicle_id") if customer_id else None,
            new_customer_name=form.get("new_customer_name", "").strip(),
            new_customer_mobile=form.get("new_customer_mobile", "").strip(),
            store_id=store_id,
            channel=form.get("channel", ""),
            content=form.get("content", "")[:5000],
            expected_solution=form.get("expected_solution", "")[:5000],
            urgency=form.get("urgency", "normal"),
        )
    except (InvalidInput, Conflict, Forbidden) as refused:
        return await _intake(actor, form, refused, status=400)
    return Redirect(path=f"/complaints/{complaint_id}?ok=complaint_registered", status_code=HTTP_303_SEE_OTHER)


async def _intake(actor: Scope, form: dict[str, str], refused: Exception | None, status: int = 200, *,
                  candidates: list | None = None, route_suggestion=None) -> Template:
    suggestion = await _repeat_suggestion(actor, form.get("customer_id", ""), form.get("vehicle_id", ""))
    return Template("complaints/intake.html", status_code=status, context={
        "form": form, "errors": _messages(refused), "stores": await store_choices(actor), "labels": LABELS,
        "q": form.get("q", ""), "candidates": candidates or [], "route_suggestion": route_suggestion,
        "default_channel": "hotline_400" if actor.is_group_level else "walk_in",
        **_repeat_context(actor, suggestion, form),
    })


async def _repeat_suggestion(actor: Scope, customer_id: str, vehicle_id: str) -> major_service.Suggestion | None:
    """For re-rendering the form: the repeat check of the chosen customer/vehicle, None when there is nothing
    to check (no customer chosen, or one the caller cannot see — the submit shows that refusal)."""
    try:
        customer, vehicle = optional_int(customer_id, "customer_id"), optional_int(vehicle_id, "vehicle_id")
        if customer is None:
            return None
        return await major_service.suggest_for_intake(actor=actor, customer_id=customer, vehicle_id=vehicle)
    except (InvalidInput, NotFound):
        return None


def _repeat_context(actor: Scope, suggestion: major_service.Suggestion | None, form: dict[str, str]) -> dict[str, Any]:
    """Nothing is pre-chosen: the decision is the agent's (a re-shown form keeps what they chose)."""
    return {"repeat": suggestion if suggestion and suggestion.repeats else None,
            "repeat_decision": form.get("repeat_decision", ""), "repeat_reason": form.get("repeat_reason", ""),
            "can_mark_major": actor.has_role(*MAJOR_MARKERS), "labels": LABELS}


# ---------------------------------------------------------------- one complaint


@get("/complaints/{complaint_id:int}", guards=[requires(*workflow.READERS)], include_in_schema=False)
async def complaint_page(actor: Scope, complaint_id: int, done: str = "") -> Template:
    """The complaint; `done` names the step just taken, confirmed at the top (the redirect after a step)."""
    return await _page(actor, complaint_id, None, done=done if done in _STEPS else "")


@post("/complaints/{complaint_id:int}/act/{action:str}", guards=[requires(*workflow.READERS)], include_in_schema=False)
async def complaint_act(
    request: Request[Scope, Any, Any], actor: Scope, complaint_id: int, action: str
) -> Template | Redirect:
    """One step from the complaint page; afterwards back to the page (or the refusal shown on it)."""
    if action not in _STEPS:
        raise NotFound("complaint")
    existing_id(complaint_id, "complaint")
    form = dict((await request.form()).items())
    try:
        await _STEPS[action](actor, complaint_id, form)
    except (InvalidInput, Conflict, Forbidden) as refused:
        status = 409 if isinstance(refused, Conflict) else 403 if isinstance(refused, Forbidden) else 400
        return await _page(actor, complaint_id, refused, status=status, form=form, failed=action)
    return Redirect(path=f"/complaints/{complaint_id}?done={action}", status_code=HTTP_303_SEE_OTHER)


@post("/complaints/{complaint_id:int}/reveal", guards=[requires(*workflow.READERS)], include_in_schema=False)
async def complaint_reveal(request: Request[Scope, Any, Any], actor: Scope, complaint_id: int) -> Template:
    """The "show" button of the complainant's masked phone: the clear value in place (logged)."""
    existing_id(complaint_id, "complaint")

    async def reveal(field: str, reason: str) -> str:
        return await queries.reveal_complaint_field(actor=actor, complaint_id=complaint_id, field=field,
                                                    reason=reason)

    return await revealed_fragment(request, reveal)


async def _page(
    actor: Scope, complaint_id: int, refused: Exception | None, *, status: int = 200,
    form: dict[str, str] | None = None, failed: str = "", done: str = "",
) -> Template:
    existing_id(complaint_id, "complaint")
    detail = await queries.complaint_detail(actor=actor, complaint_id=complaint_id)
    needs_staff = {"assign", "analyse"} & set(detail.actions)
    staff = await queries.store_staff(actor=actor, store_id=detail.summary.store_id) if needs_staff else []
    stores = await store_choices(actor) if "reroute" in detail.actions else []
    return Template("complaints/detail.html", status_code=status, context={
        "c": detail, "s": detail.summary, "staff": staff, "stores": stores, "labels": LABELS,
        "errors": _messages(refused), "form": form or {}, "failed": failed,
        "done": done, "done_key": f"complaints.done.{done}",
        "major": await major_flags(actor=actor, complaint_ids=[complaint_id]),
        "can_mark_major": actor.has_role(*MAJOR_MARKERS) and detail.summary.state not in workflow.FINAL_STATES,
        "repeat": await repeats.repeat_flags(actor=actor, complaint_ids=[complaint_id]),
        "can_decide_repeat": actor.has_role(*MAJOR_MARKERS),
        **await attachment_panel(actor, complaint_id), "attachment_errors": [], "attachment_done": None,
    })


async def _reroute(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.reroute_complaint(actor=actor, complaint_id=cid, store_id=required_int(f, "store_id"), note=f.get("note", ""))


async def _accept(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.accept_complaint(actor=actor, complaint_id=cid, note=f.get("note", ""))


async def _assign(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.assign_handler(actor=actor, complaint_id=cid, handler_user_id=optional_int(f.get("handler_user_id", ""), "handler_user_id"),
                                 department=f.get("department", ""), note=f.get("note", ""))


async def _analyse(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.record_cause(
        actor=actor, complaint_id=cid, cause_category=f.get("cause_category", ""), department=f.get("department", ""),
        liability=f.get("liability", ""), accused_user_id=optional_int(f.get("accused_user_id", ""), "accused_user_id"),
        note=f.get("note", ""),
    )


async def _countermeasure(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.record_countermeasure(actor=actor, complaint_id=cid, countermeasure=f.get("countermeasure", ""),
                                        note=f.get("note", ""))


async def _resolve(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.resolve_complaint(actor=actor, complaint_id=cid, resolution=f.get("resolution", ""),
                                    improvement_measures=f.get("improvement_measures", ""), note=f.get("note", ""))


async def _submit_report(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.submit_result_report(actor=actor, complaint_id=cid, result=f.get("result", "")[:5000],
                                       improvement_measures=f.get("improvement_measures", "")[:5000],
                                       note=f.get("note", "")[:2000])


async def _check_report(actor: Scope, cid: int, f: dict[str, str]) -> None:
    if f.get("accepted") not in ("yes", "no"):
        raise InvalidInput.one("accepted", "请选择检核结果", "Choose the check result")
    await service.check_result_report(actor=actor, complaint_id=cid, accepted=f["accepted"] == "yes",
                                      note=f.get("note", "")[:2000])


async def _set_urgency(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.set_urgency(actor=actor, complaint_id=cid, urgency=f.get("urgency", ""), note=f.get("note", "")[:2000])


async def _feed_back(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.feed_back_to_group(actor=actor, complaint_id=cid, note=f.get("note", ""))


async def _revisit(actor: Scope, cid: int, f: dict[str, str]) -> None:
    if f.get("satisfied") not in ("yes", "no"):
        raise InvalidInput.one("satisfied", "请选择客户是否满意", "Choose whether the customer is satisfied")
    await service.record_revisit(actor=actor, complaint_id=cid, satisfied=f["satisfied"] == "yes",
                                 note=f.get("note", ""))


async def _repeat_decision(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await repeats.decide(actor=actor, complaint_id=cid, decision=f.get("repeat_decision") or None,
                         reason=f.get("repeat_reason", ""))


async def _close(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.close_complaint(actor=actor, complaint_id=cid, note=f.get("note", ""))


async def _reopen(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.reopen_complaint(actor=actor, complaint_id=cid, reason=f.get("reason", ""))


async def _file_appeal(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.file_appeal(actor=actor, complaint_id=cid, reason=f.get("reason", ""))


async def _forward_appeal(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.forward_appeal(actor=actor, complaint_id=cid, opinion=f.get("note", ""))


async def _decline_appeal(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.decline_appeal(actor=actor, complaint_id=cid, opinion=f.get("note", ""))


async def _rule_appeal(actor: Scope, cid: int, f: dict[str, str]) -> None:
    if f.get("upheld") not in ("yes", "no"):
        raise InvalidInput.one("upheld", "请选择裁决结果", "Choose the ruling")
    await service.rule_appeal(actor=actor, complaint_id=cid, upheld=f["upheld"] == "yes", note=f.get("note", ""))


async def _request_compensation(actor: Scope, cid: int, f: dict[str, str]) -> None:
    try:
        amount = Decimal(f.get("amount", "").strip())
    except InvalidOperation:
        raise InvalidInput.one("amount", "请填写金额", "Enter an amount") from None
    await service.request_compensation(actor=actor, complaint_id=cid, amount=amount, kind=f.get("kind", ""),
                                       description=f.get("description", ""))


async def _decide_compensation(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.decide_compensation(actor=actor, complaint_id=cid, compensation_id=required_int(f, "compensation_id"),
                                      approve=f.get("approve") == "yes", note=f.get("note", ""))


async def _add_note(actor: Scope, cid: int, f: dict[str, str]) -> None:
    await service.add_note(actor=actor, complaint_id=cid, note=f.get("note", ""))


_STEPS = {
    "reroute": _reroute, "accept": _accept, "assign": _assign, "analyse": _analyse,
    "countermeasure": _countermeasure, "resolve": _resolve, "feed_back": _feed_back, "revisit": _revisit,
    "close": _close, "reopen": _reopen, "file_appeal": _file_appeal, "forward_appeal": _forward_appeal,
    "decline_appeal": _decline_appeal, "rule_appeal": _rule_appeal, "request_compensation": _request_compensation,
    "decide_compensation": _decide_compensation, "add_note": _add_note, "repeat_decision": _repeat_decision,
    "submit_report": _submit_report, "check_report": _check_report, "set_urgency": _set_urgency,
}


# ---------------------------------------------------------------- helpers


def _messages(refused: Exception | None) -> list[FieldProblem]:
    if refused is None:
        return []
    if isinstance(refused, InvalidInput):
        return refused.problems
    return [FieldProblem("", refused.zh, refused.en)]  # type: ignore[attr-defined]


ROUTES = [
    complaint_list, complaint_list_export, revisit_page, accountability_page, record_violation, intake_page, intake_lookup, intake_take,
    intake_submit,
    complaint_page, complaint_act, complaint_reveal,
]
