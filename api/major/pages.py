"""Major-complaint pages (重大投诉): the HQ board with live countdowns, one major complaint with its
report form and alerts, and marking a complaint major.

Every read goes through `crm.major.service` with the caller's scope; the board
refreshes itself over Server-Sent Events (`/major/events`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.lists import ListView
from api.major.routes import board_events_stream
from api.settings.menu import settings_context
from api.web.forms import existing_id, page_or_fragment
from crm.calendar.service import calendar_for_group
from crm.major import crisis, service
from crm.major.policy import (
    CHANNELS, POLICY_EDITORS, POLICY_READERS, RECIPIENT_ROLES, Policy, get_policy, set_policy,
)
from crm.complaints.workflow import STATE_TITLES
from crm.major.report_form import FIELDS, PEOPLE, PERSON_FIELDS, RISK_FIELDS, TEXT_FIELDS
from crm.major.rules import Condition, MajorReason, RiskLevel
from crm.major.service import Person, ReasonInput, ReportForm
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope


# The report form as the browser posts it: the parts by name, the people as parallel `person_*` lists.
ReportPost = msgspec.defstruct("ReportPost", [
    ("action", str, "save"), *[(f.name, str, str(f.default)) for f in FIELDS],
    *[(f"person_{f.name}", list[str] | str, []) for f in PERSON_FIELDS],
], kw_only=True, module=__name__)


class MeetingPost(msgspec.Struct, kw_only=True):
    held_at: str = ""
    decisions: str = ""
    member_name: list[str] | str = []
    member_position: list[str] | str = []


class MarkPost(msgspec.Struct, kw_only=True):
    reasons: list[str] | str = []
    note: str = ""


@get("/major", guards=[requires(*service.BOARD_READERS)], include_in_schema=False)
async def board_page(
    request: Request[Scope, Any, Any], actor: Scope, include_closed: bool = False, sort: str = "", page: str = "",
    page_size: str = "",
) -> Template:
    want = service.BOARD_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await service.board(actor=actor, filters=service.BoardFilter(include_closed=include_closed), want=want)
    view = ListView("/major", service.BOARD_LIST, want, found, {"include_closed": "true" if include_closed else ""})
    context = {"views": found.items, "view": view, "include_closed": include_closed,
               "can_see_policy": actor.has_role(*POLICY_READERS), **_labels()}
    return page_or_fragment(request, page="major/board.html", fragment="major/_rows.html", context=context)


@get("/major/events", include_in_schema=False)
async def board_events(actor: Scope) -> ServerSentEvent:
    return board_events_stream(actor)


@get("/major/{major_id:int}", include_in_schema=False)
async def major_page(actor: Scope, major_id: int) -> Template:
    return await _detail(actor, major_id)


@post("/major/{major_id:int}/report", include_in_schema=False)
async def report_submit(
    actor: Scope, major_id: int, data: Annotated[ReportPost, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Template | Redirect:
    existing_id(major_id, "major")
    form = _report_form(data)
    try:
        if data.action == "file":
            await service.file_report(actor=actor, major_id=major_id, form=form)
        else:
            await service.save_report(actor=actor, major_id=major_id, form=form)
    except InvalidInput as problem:
        return await _detail(actor, major_id, errors=problem.problems, draft=form, status_code=400)
    done = "report_filed" if data.action == "file" else "report_saved"
    return Redirect(path=f"/major/{major_id}?ok={done}", status_code=HTTP_303_SEE_OTHER)


@post("/major/{major_id:int}/crisis-meeting", include_in_schema=False)
async def crisis_meeting_submit(
    actor: Scope, major_id: int, data: Annotated[MeetingPost, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Template | Redirect:
    """危机处理小组会议 from the form on the major-complaint page (time in the group's timezone)."""
    existing_id(major_id, "major")
    names, positions = _as_list(data.member_name), _as_list(data.member_position)
    members = [crisis.Member(n, positions[i] if i < len(positions) else "") for i, n in enumerate(names)]
    try:
        held_at = await _local_time(actor, data.held_at)
        await crisis.record_meeting(actor=actor, major_id=major_id, held_at=held_at, members=members,
                                    decisions=data.decisions)
    except InvalidInput as problem:
        return await _detail(actor, major_id, meeting_errors=problem.problems, meeting_form=data, status_code=400)
    return Redirect(path=f"/major/{major_id}?ok=crisis_meeting#crisis", status_code=HTTP_303_SEE_OTHER)


@post("/major/{major_id:int}/forward", include_in_schema=False)
async def forward_submit(actor: Scope, major_id: int) -> Redirect:
    existing_id(major_id, "major")
    await service.forward_report(actor=actor, major_id=major_id)
    return Redirect(path=f"/major/{major_id}?ok=major_forwarded", status_code=HTTP_303_SEE_OTHER)


@post("/major/alerts/{alert_id:int}/acknowledge", include_in_schema=False)
async def acknowledge_submit(actor: Scope, alert_id: int, next: str = "") -> Redirect:
    existing_id(alert_id, "major")
    await service.acknowledge_alert(actor=actor, alert_id=alert_id)
    target = next if next.startswith("/major") and not next.startswith("//") else "/major"
    return Redirect(path=target, status_code=HTTP_303_SEE_OTHER)


@get("/settings/major-policy", guards=[requires(*POLICY_READERS)], include_in_schema=False)
async def policy_page(actor: Scope) -> Template:
    return _policy_template(actor, msgspec.to_builtins(await get_policy(actor=actor)))


@post("/settings/major-policy", guards=[requires(*POLICY_EDITORS)], include_in_schema=False)
async def policy_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    raw, policy, problems = _policy_from_form(await request.form())
    try:
        if policy is None:
            raise InvalidInput(problems)
        await set_policy(actor=actor, policy=policy)
    except InvalidInput as problem:
        return _policy_template(actor, raw, errors=problem.problems, status_code=400)
    return Redirect(path="/settings/major-policy?saved=1", status_code=HTTP_303_SEE_OTHER)


@get("/complaints/{complaint_id:int}/major", include_in_schema=False)
async def mark_page(actor: Scope, complaint_id: int) -> Template:
    return await _mark_page(actor, complaint_id)


@post("/complaints/{complaint_id:int}/major", include_in_schema=False)
async def mark_submit(
    actor: Scope, complaint_id: int, data: Annotated[MarkPost, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Template | Redirect:
    existing_id(complaint_id, "major")
    chosen = [data.reasons] if isinstance(data.reasons, str) else data.reasons
    try:
        reasons = [
            ReasonInput(MajorReason(r), data.note if r == MajorReason.OTHER else "")
            for r in chosen if r in MajorReason.__members__.values()
        ]
        major_id = await service.mark_major(actor=actor, complaint_id=complaint_id, reasons=reasons)
    except InvalidInput as problem:
        return await _mark_page(actor, complaint_id, errors=problem.problems, status_code=400)
    return Redirect(path=f"/major/{major_id}?ok=marked_major", status_code=HTTP_303_SEE_OTHER)


async def _detail(
    actor: Scope, major_id: int, *, errors: list | None = None, draft: ReportForm | None = None,
    meeting_errors: list | None = None, meeting_form: MeetingPost | None = None, status_code: int = 200,
) -> Template:
    existing_id(major_id, "major")
    view = await service.major_detail(actor=actor, major_id=major_id)
    report = view.report or {}
    form = draft or msgspec.convert(
        {f.name: report[f.name] for f in FIELDS if f.name in report} | {PEOPLE: report.get(PEOPLE) or []}, ReportForm
    )
    editable = report.get("status", "draft") == "draft" and actor.has_role(*service.REPORTERS)
    my_pending = {
        a.id for a in view.alerts
        for r in a.recipients if r["user_id"] == actor.user_id and r["acknowledged_at"] is None
    }
    return Template(
        "major/detail.html",
        context={
            "view": view, "form": form, "editable": editable, "errors": errors or [],
            "can_forward": actor.has_role(*service.FORWARDERS) and report.get("status") == "filed",
            "my_pending": my_pending, "can_record_meeting": actor.has_role(*crisis.RECORDERS),
            "meeting_errors": meeting_errors or [], "meeting": meeting_form or MeetingPost(),
            "forward_level": service.FORWARD_LEVEL, **_labels(),
        },
        status_code=status_code,
    )


async def _mark_page(actor: Scope, complaint_id: int, *, errors: list | None = None, status_code: int = 200) -> Template:
    from crm.complaints.tables import Complaint

    existing_id(complaint_id, "major")
    actor.require_role(*service.MARKERS)
    complaint = await actor.get(Complaint, complaint_id)
    major = await service.major_for_complaint(actor=actor, complaint_id=complaint.id)
    suggestion = await service.suggest_for_intake(
        actor=actor, customer_id=complaint.customer, vehicle_id=complaint.vehicle, channel=complaint.channel,
        exclude_complaint_id=complaint.id,
    )
    return Template(
        "major/mark.html",
        context={"complaint": complaint, "major": major, "suggestion": suggestion, "errors": errors or [],
                 "reasons": list(MajorReason), **_labels()},
        status_code=status_code,
    )


_EXTRA_LEVEL_ROWS = 2


def _policy_template(actor: Scope, policy: dict, *, errors: list | None = None, status_code: int = 200) -> Template:
    """`policy` as plain data (a saved Policy, or what the admin typed when it did not validate)."""
    return Template(
        "major/policy.html",
        context={
            **settings_context(actor, "major_policy"),
            "policy": policy, "rows": [*policy["levels"], *([None] * _EXTRA_LEVEL_ROWS)],
            "editable": actor.has_role(*POLICY_EDITORS), "errors": errors or [],
            "roles": [r for r in Role if r in RECIPIENT_ROLES], "channels": CHANNELS, "conditions": list(Condition),
        },
        status_code=status_code,
    )


def _policy_from_form(form: Any) -> tuple[dict, Policy | None, list[FieldProblem]]:
    """The ladder form (hours and minutes, as people think of them) → the policy, checked like the API's.
    Returns what was typed as plain data too, to show it again when it does not validate."""
    problems: list[FieldProblem] = []

    def seconds(field: str, raw: str, unit: int) -> int:
        try:
            return max(int(round(float(raw) * unit)), 0)
        except ValueError:
            problems.append(FieldProblem(field, "请输入数字", "Enter a number"))
            return 0

    defaults = Policy()
    raw = {
        "repeat_window_days": seconds("repeat_window_days", form.get("repeat_window_days", ""), 1),
        "repeat_decision_working_hours": seconds(
            "repeat_decision_working_hours",
            form.get("repeat_decision_working_hours", str(defaults.repeat_decision_working_hours)), 1),
        "forward_deadline_seconds": seconds(
            "forward_deadline_hours", form.get("forward_deadline_hours", str(defaults.forward_deadline_seconds / 3600)),
            3600),
        "forward_roles": form.getall("forward_roles", []) if "forward_roles_shown" in form else defaults.forward_roles,
        "report_deadline_seconds": seconds("report_deadline_hours", form.get("report_deadline_hours", ""), 3600),
        "renotify_seconds": seconds("renotify_minutes", form.get("renotify_minutes", ""), 60),
        "alert_roles": form.getall("alert_roles", []),
        "alert_channels": form.getall("alert_channels", []),
        "levels": [],
    }
    for i in range(min(int(form.get("level_count", "0") or 0), 20)):
        hours = form.get(f"level{i}_hours", "").strip()
        if not hours:
            continue  # an empty row, or a level the admin removed
        raw["levels"].append({
            "delay_seconds": seconds(f"levels[{len(raw['levels'])}].delay_seconds", hours, 3600),
            "condition": form.get(f"level{i}_condition", ""),
            "roles": form.getall(f"level{i}_roles", []),
            "channels": form.getall(f"level{i}_channels", []),
            "label_zh": form.get(f"level{i}_label_zh", "").strip(),
            "label_en": form.get(f"level{i}_label_en", "").strip(),
        })
    if problems:
        return raw, None, problems
    try:
        return raw, msgspec.convert(raw, Policy), []
    except msgspec.ValidationError as error:
        return raw, None, [FieldProblem(_msgspec_field(str(error)), "取值无效", str(error))]


def _msgspec_field(message: str) -> str:
    at = message.rsplit("at `$.", 1)
    return at[1].rstrip("`") if len(at) == 2 else "policy"


def _report_form(data: ReportPost) -> ReportForm:
    """The posted form; rows without a name are no person, an unknown risk level is none."""
    columns = {f.name: _as_list(getattr(data, f"person_{f.name}")) for f in PERSON_FIELDS}
    people = [
        Person(**{name: (column[i] if i < len(column) else "").strip() for name, column in columns.items()})
        for i, n in enumerate(columns["name"]) if n.strip()
    ]
    risks = {r.value for r in RiskLevel}
    return ReportForm(
        **{f.name: getattr(data, f.name) for f in TEXT_FIELDS},
        **{f.name: RiskLevel(getattr(data, f.name) if getattr(data, f.name) in risks else f.default) for f in RISK_FIELDS},
        responsible_people=people,
    )


async def _local_time(actor: Scope, raw: str):
    """A `datetime-local` value as the group's wall-clock time; empty is left to the service to refuse."""
    if not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput.one("held_at", "会议时间格式无效", "Invalid meeting time") from None
    if moment.tzinfo is None and actor.group_id is not None:
        moment = moment.replace(tzinfo=(await calendar_for_group(actor.group_id)).tz)
    return moment


def _as_list(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _labels() -> dict:
    return {"text_fields": TEXT_FIELDS, "risk_fields": RISK_FIELDS, "person_fields": PERSON_FIELDS,
            "risk_levels": list(RiskLevel), "RiskLevel": RiskLevel,
            "state_titles": {str(state): title for state, title in STATE_TITLES.items()}}


ROUTES = [board_page, board_events, major_page, report_submit, crisis_meeting_submit, forward_submit, acknowledge_submit, policy_page,
          policy_submit, mark_page, mark_submit]
