"""One place that turns errors into HTTP answers, with messages in Chinese and English.

`/api/` answers JSON; the web UI (every other path) gets the same status as an
HTML page in the user's language, and a sign-in redirect instead of 401.

Shape of every JSON error body:
    {"status_code": 400, "detail": "输入有误 / Invalid input",
     "errors": [{"field": "vin", "message": "… / …", "message_zh": "…", "message_en": "…"}]}
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import msgspec
import structlog
from asyncpg.exceptions import DataError
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect, HTMXDetails

from api.i18n import has, language_of, translate
from tenants.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PasswordChangeRequired,
    RateLimited,
)

log = structlog.get_logger()

PASSWORD_CHANGE_PAGE = "/account/password"


def exception_handlers() -> dict:
    handlers = {
        InvalidInput: _invalid_input,
        ValidationException: _validation,
        NotFound: _not_found,
        PasswordChangeRequired: _password_change_required,
        Forbidden: _forbidden,
        PermissionDeniedException: _forbidden,
        Conflict: _conflict,
        RateLimited: _rate_limited,
        NotAuthorizedException: _not_authorized,
        HTTPException: _http,
        DataError: _data_rejected_by_database,
        Exception: _unexpected,
    }
    return {exc: _as_page_for_web(handler) for exc, handler in handlers.items()}


def error_body(status: int, zh: str, en: str, problems: list[FieldProblem] | None = None, **extra) -> dict:
    body = {"status_code": status, "detail": f"{zh} / {en}", "detail_zh": zh, "detail_en": en, **extra}
    if problems is not None:
        body["errors"] = [
            {"field": p.field, "message": f"{p.zh} / {p.en}", "message_zh": p.zh, "message_en": p.en}
            for p in problems
        ]
    return body


def _json(status: int, body: dict) -> Response:
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _invalid_input(_: Request, exc: InvalidInput) -> Response:
    return _json(400, error_body(400, "输入有误", "Invalid input", exc.problems))


def _validation(request: Request, exc: HTTPException) -> Response:
    items = [item for item in (exc.extra or []) if isinstance(item, dict)]
    problems = [_as_sent(request, _translate(item)) for item in items if item.get("source") != "body"]
    if any(item.get("source") == "body" for item in items):
        problems += _body_problems(request) or [_translate(item) for item in items if item.get("source") == "body"]
    missing = _MISSING_PARAMETER.search(str(exc.detail or ""))
    if missing:
        problems.append(FieldProblem(missing.group(2), "缺少必填参数", f"Missing required {missing.group(1)} parameter"))
    if not problems:
        problems = [FieldProblem("body", "请求格式错误", str(exc.detail or "Malformed request"))]
    return _json(400, error_body(400, "输入有误", "Invalid input", problems))


def _as_sent(request: Request, problem: FieldProblem) -> FieldProblem:
    """A parameter renamed for the request (`day` read from `?date=`) is named as the client sent it."""
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters[problem.field]
    except (AttributeError, KeyError):
        return problem
    definition = parameter.kwarg_definition
    sent = getattr(definition, "query", None) or getattr(definition, "header", None) or getattr(definition, "cookie", None)
    return FieldProblem(sent, problem.zh, problem.en) if sent else problem


_MISSING_PARAMETER = re.compile(r"Missing required (query|path|header|cookie) parameter '([\w-]+)'")


def _body_problems(request: Request) -> list[FieldProblem]:
    """msgspec stops at a body's first bad field; checking each field alone names them all at once."""
    try:
        struct = request.route_handler.parsed_fn_signature.parameters["data"].annotation
        raw = msgspec.json.decode(request._connection_state.body)
    except Exception:  # no struct body, or a body that is not JSON: the first problem is all there is
        return []
    if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct) and isinstance(raw, dict)):
        return []
    problems = []
    fields = msgspec.structs.fields(struct)
    for field in fields:
        if field.encode_name not in raw:
            if field.required:
                problems.append(_translate({"message": f"Object missing required field `{field.encode_name}`"}))
            continue
        try:
            msgspec.convert(raw[field.encode_name], type=field.type)
        except msgspec.ValidationError as error:
            message, _, where = str(error).partition(" - at `$")
            problems.append(_translate({"key": field.encode_name + where.rstrip("`"), "message": message}))
    if struct.__struct_config__.forbid_unknown_fields:
        known = {field.encode_name for field in fields}
        problems += [FieldProblem(key or "body", "未知字段", "Unknown field") for key in raw if key not in known]
    return problems


def _data_rejected_by_database(request: Request, exc: DataError) -> Response:
    """Safety net behind edge validation: a value PostgreSQL cannot store (a NUL character, a number out
    of range) is the caller's input, so it is a 400 — logged, because the edge should have caught it."""
    log.warning("input_rejected_by_database", path=request.url.path, error=type(exc).__name__)
    problem = FieldProblem("body", "输入包含无法保存的字符或超出范围的值", "A value cannot be stored (bad character or out of range)")
    return _json(400, error_body(400, "输入有误", "Invalid input", [problem]))


def _not_found(_: Request, exc: NotFound) -> Response:
    return _json(404, error_body(404, "未找到", "Not found", [exc.problem] if exc.problem else None))


def _forbidden(_: Request, exc: Exception) -> Response:
    zh, en = (exc.zh, exc.en) if isinstance(exc, Forbidden) else ("无权执行此操作", "Your role may not do this")
    return _json(403, error_body(403, zh, en))


def _password_change_required(request: Request, exc: PasswordChangeRequired) -> Response:
    """The API says so (403); a page sends the browser to the password form until a new one is chosen."""
    if _is_web(request):
        if HTMXDetails(request):
            return ClientRedirect(PASSWORD_CHANGE_PAGE)
        return Redirect(path=PASSWORD_CHANGE_PAGE)
    return _json(403, error_body(403, exc.zh, exc.en, password_change_required=True))


def _conflict(_: Request, exc: Conflict) -> Response:
    return _json(409, error_body(409, exc.zh, exc.en, **exc.extra))


def _rate_limited(_: Request, exc: RateLimited) -> Response:
    response = _json(429, error_body(429, exc.zh, exc.en, retry_after=exc.retry_after))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if not request.url.path.startswith("/api/"):
        htmx = HTMXDetails(request)
        if htmx:
            # an htmx fragment request would swap the login page into the page; send the whole browser there
            page = urlsplit(htmx.current_url or "/")
            redirect = ClientRedirect(_login_url(page.path, page.query))
            redirect.status_code = 401
            return redirect
        return Redirect(path=_login_url(request.url.path, request.url.query))
    zh, _, en = str(exc.detail or "").partition(" / ")
    if not en:
        zh, en = "请先登录", "Authentication required"
    return _json(401, error_body(401, zh, en))


def _login_url(path: str, query: str) -> str:
    here = (path or "/") + (f"?{query}" if query else "")
    return f"/login?next={quote(here, safe='')}"


def _http(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status == 404:
        return _json(404, error_body(404, "未找到", "Not found"))
    if status == 405:
        return _json(405, error_body(405, "不支持该请求方法", "Method not allowed"))
    if status == 403:
        return _json(403, error_body(403, "无权执行此操作", str(exc.detail or "Forbidden")))
    if status == 400:  # e.g. a body that is not JSON at all: the same shape as a field problem
        return _validation(request, exc)
    return _json(status, error_body(status, "请求无法处理", str(exc.detail)))


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected_error", path=request.url.path)
    return _json(500, error_body(500, "服务器内部错误", "Internal server error"))


def _as_page_for_web(handler):
    """Keep the JSON answer for the API; show web users a page with the same status."""

    def handle(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if not _is_web(request) or isinstance(response, Redirect) or "HX-Redirect" in response.headers:
            return response
        return error_page(request, response.status_code)

    handle.__name__ = handler.__name__
    return handle


def _is_web(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/schema", "/health"))


def error_page(request: Request, status: int) -> Template:
    lang = language_of(request)
    key = f"error.{status}" if has(f"error.{status}.title") else "error.other"
    return Template(
        "errors/error.html",
        context={
            "status_code": status,
            "title": translate(f"{key}.title", lang),
            "text": translate(f"{key}.text", lang),
        },
        status_code=status,
    )


_MSGSPEC_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"Object missing required field `(\w+)`"), "缺少必填字段", "Missing required field"),
    (re.compile(r"Expected `(\w+)`, got `(\w+)`"), "类型错误", "Wrong type"),
    (re.compile(r"Expected `str` of length <= (\d+)"), "长度超出上限", "Too long"),
    (re.compile(r"Expected `str` of length >= (\d+)"), "长度不足", "Too short"),
    (re.compile(r"Expected `\w+` >= "), "数值过小", "Value too small"),
    (re.compile(r"Expected `\w+` <= "), "数值过大", "Value too large"),
    (re.compile(r"Invalid enum value"), "取值无效", "Invalid value"),
    (re.compile(r"Object contains unknown field"), "未知字段", "Unknown field"),
    (re.compile(r"Invalid (RFC 3339|ISO 8601)"), "日期时间格式错误", "Invalid date/time"),
]


def _translate(item: dict) -> FieldProblem:
    """Litestar/msgspec validation items → a field problem with a Chinese message."""
    message = str(item.get("message", ""))
    field = str(item.get("key") or "body")
    missing = re.search(r"required field `(\w+)`", message)
    if missing:
        field = missing.group(1)
    unknown = re.search(r"unknown field `(\w+)`", message)
    if unknown:
        field = unknown.group(1)
    at = re.search(r"at `\$\.([\w.\[\]]+)`", message)
    if at:
        field = at.group(1)
    if item.get("key") == "data" and message == "'data'":  # Litestar's word for a request without a body
        return FieldProblem("body", "缺少请求体（无内容时请发送 {}）", "The request body is missing (send {} if empty)")
    if "regex" in message and "x00" in message:  # api.params.NO_NUL
        return FieldProblem(field, "不能包含空字符（U+0000）", "Must not contain the NUL character (U+0000)")
    for pattern, zh, _en in _MSGSPEC_PATTERNS:
        if pattern.search(message):
            return FieldProblem(field, zh, message)
    return FieldProblem(field, "取值无效", message or "Invalid value")


def import_answer(job) -> Response:
    """Every import's answer once its file is kept: 202 with the job's id and URL, where its progress and, at the
    end, its per-row report are (`GET /api/v1/imports/{id}`). A file that cannot be read at all was a 400 on
    `file` before this."""
    return Response(content={"job_id": job.id, "url": job.url}, status_code=202, media_type=MediaType.JSON)
