"""Hostile input answers 400 in the error shape, never 500; and nothing secret reaches the logs.

Runs against the app in-process with the suite's PostgreSQL; logs are captured from structlog (stdout)
and stdlib logging, then searched for the caller's token, password and cookie.
"""

from __future__ import annotations

import logging

import httpx
import pytest
import structlog
from litestar import Litestar, Request, get

from api.errors import exception_handlers
from api.security import MAX_JSON_BYTES, MAX_JSON_DEPTH, JsonLimits, json_depth
from crm.logs import configure_logging, scrub
from tests.support.builders import PASSWORD

DEEP = "[" * 1000 + "]" * 1000


def _assert_invalid_input(response: httpx.Response, field: str = "body") -> dict:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"] == "输入有误 / Invalid input"
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["message_zh"] and body["errors"][0]["message_en"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/customers", "/login"])
async def test_json_nested_1000_deep_answers_400_even_without_signing_in(client, path):
    body = _assert_invalid_input(await client.post(path, content=DEEP, headers={"Content-Type": "application/json"}))
    assert "嵌套" in body["errors"][0]["message_zh"]


async def test_json_too_large_answers_400(client):
    big = '{"username": "%s", "password": "x"}' % ("a" * MAX_JSON_BYTES)
    body = _assert_invalid_input(await client.post("/api/v1/auth/token", content=big,
                                                   headers={"Content-Type": "application/json"}))
    assert "过大" in body["errors"][0]["message_zh"]


async def test_json_within_limits_passes_through(client, tenant):
    nested = {"a": 1}
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = {"a": nested}
    response = await client.post("/api/v1/auth/token", json=tenant.login("call_center_agent"))
    assert response.status_code == 200
    assert json_depth(httpx.Request("POST", "/", json=nested).content) == MAX_JSON_DEPTH - 1
    assert json_depth(b'{"a": "[[[[{{{{"}') == 1


async def test_a_run_of_bad_requests_leaves_no_secret_in_the_logs(client, tenant, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    bearer = await tenant.headers("call_center_agent")
    token = bearer["Authorization"].split()[1]
    cookie = {"Cookie": "dealerdesk_session=c00kie-Secret-Value; csrftoken=csrf-Secret-Value"}
    json_headers = {"Content-Type": "application/json", **bearer, **cookie}
    requests = [
        ("POST", "/api/v1/auth/token", DEEP),
        ("POST", "/api/v1/auth/token", '{"username": "nobody", "password": "%s"}' % PASSWORD),
        ("POST", "/api/v1/auth/token", '{"username": "x", "password": "%s", "extra": [' % PASSWORD),
        ("POST", "/api/v1/auth/token", '{"username": 1, "password": "%s"}' % PASSWORD),
        ("POST", "/api/v1/customers", DEEP),
        ("POST", "/api/v1/customers", '{"name": "\\u0000", "mobile": [[[[]]]]}'),
        ("PATCH", "/api/v1/customers/99999999", '{"name": "张三"}'),
        ("GET", f"/api/v1/customers?token={token}&password={PASSWORD}", None),
        ("POST", "/api/v1/complaints", "not json"),
    ]
    for method, path, content in requests:
        response = await client.request(method, path, content=content, headers=json_headers)
        assert response.status_code < 500, (path, response.text)

    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    for secret in (token, PASSWORD, "c00kie-Secret-Value", "csrf-Secret-Value"):
        assert secret not in logged


async def test_an_unexpected_error_logs_a_traceback_without_the_callers_secrets(capsys, caplog):
    """The issue's leak: a 500's traceback carried the bearer token (frame locals, exception texts)."""
    configure_logging()

    @get("/api/boom")
    async def boom(request: Request) -> None:
        authorization = request.headers["authorization"]  # a local, as in any handler's frame
        raise RuntimeError(f"upstream refused {authorization} with password=hunter2-secret")

    app = Litestar([boom], exception_handlers=exception_handlers(), middleware=[JsonLimits])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/api/boom", headers={"Authorization": "Bearer tok-Secret-0123456789"})
    assert response.status_code == 500
    logging.getLogger("test").exception("stdlib too", exc_info=RuntimeError("token=tok-Secret-0123456789"))
    structlog.get_logger().error("gateway", sms_gateway_token="gw-Secret-token", url="https://u:gw-pass@sms/x")

    logged = capsys.readouterr().out + caplog.text
    assert "unexpected_error" in logged and "Traceback" in logged and "RuntimeError" in logged
    for secret in ("tok-Secret-0123456789", "hunter2-secret", "gw-Secret-token", "gw-pass"):
        assert secret not in logged


def test_scrub_keeps_the_message_and_drops_the_secret():
    assert scrub("Authorization: Bearer abcdef123456 failed") == "Authorization: [redacted] [redacted] failed"
    assert scrub("{'password': 'p@ss w0rd', 'username': 'wang'}") == "{'password': '[redacted]', 'username': 'wang'}"
    assert scrub("redis://:pw@127.0.0.1:6379/0") == "redis://[redacted]@127.0.0.1:6379/0"


def test_the_web_servers_access_log_is_formatted_and_scrubbed():
    """uvicorn's access formatter reads its record's arguments (client, method, path, version, status) one by one:
    they are scrubbed one by one, never folded away (every request would otherwise log a formatting error)."""
    from uvicorn.logging import AccessFormatter

    configure_logging()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/activate?token=ddk_secret_value", "1.1", 200), None)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /activate?token=[redacted] HTTP/1.1" 200 OK'
