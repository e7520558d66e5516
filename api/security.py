"""Protections in front of every route: JSON size and depth limits, and the security headers.

Pure ASGI middleware, so that they also guard the unauthenticated endpoints (the token endpoint)
and answer before any handler, decoder or logger sees a hostile body.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from tenants.errors import FieldProblem

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The OpenAPI viewer under /schema is Litestar's page with inline scripts: it gets only the framing rule.
SCHEMA_PAGE_POLICY = "frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """How deeply a JSON document nests arrays and objects (brackets inside strings do not count)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)


class JsonLimits:
    """A JSON body larger than MAX_JSON_BYTES or nested deeper than MAX_JSON_DEPTH answers 400 at once.

    The body is read (at most MAX_JSON_BYTES + 1 bytes), checked, then handed to the app unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > MAX_JSON_BYTES:
            await _refuse(send, _too_large())
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # a disconnect: let the app see it
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > MAX_JSON_BYTES:
                await _refuse(send, _too_large())
                return
        body = b"".join(chunks)
        if json_depth(body) > MAX_JSON_DEPTH:
            await _refuse(send, FieldProblem(
                "body", f"JSON 嵌套层数超过上限（{MAX_JSON_DEPTH} 层）", f"JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
            ))
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def security_headers(hsts: bool):
    """A `before_send` hook: every response (pages, API, errors, unknown paths) says no framing, no MIME
    sniffing, no script or style but our own files, a short referrer; and HSTS when served over HTTPS
    (SECURE_COOKIES=1)."""
    common = [
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        *([(b"strict-transport-security", HSTS.encode())] if hsts else []),
    ]
    policy, schema_policy = CONTENT_SECURITY_POLICY.encode(), SCHEMA_PAGE_POLICY.encode()

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        csp = schema_policy if scope["path"].startswith("/schema") else policy
        headers = list(message.get("headers", []))
        present = {name.lower() for name, _ in headers}
        headers += [(n, v) for n, v in [*common, (b"content-security-policy", csp)] if n not in present]
        message["headers"] = headers

    return add_headers


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large() -> FieldProblem:
    kib = MAX_JSON_BYTES // 1024
    return FieldProblem("body", f"请求体过大（JSON 最多 {kib} KB）", f"The request body is too large (JSON at most {kib} KB)")


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def _refuse(send: Send, problem: FieldProblem) -> None:
    body = json.dumps(error_body(400, "输入有误", "Invalid input", [problem]), ensure_ascii=False).encode()
    await send({
        "type": "http.response.start",
        "status": 400,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
