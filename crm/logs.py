"""Logging for the app, the worker and the launcher: structlog lines without secrets, tracebacks without locals.

Nothing secret is ever written: values under secret-sounding keys (passwords, tokens, cookies, the
Authorization header, gateway secrets) become `[redacted]`, and the same words are scrubbed from free text
(messages, exception texts, tracebacks) — for structlog events and for every stdlib log record alike.
Tracebacks are plain (no local variables): a frame's locals hold request headers and bodies.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

import structlog

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(?i)(authorization|cookie|passw(or)?d|secret|token|api[_-]?key|pii[_-]?(hash[_-]?)?keys?|csrf|credential"
    r"|(^|[_-])sign(ature)?($|[_-]))"
)
_WORDS = (r"authorization|cookie|set-cookie|password|passwd|secret|[a-z_]*token|api[_-]?key|pii_keys|pii_hash_key"
          r"|x-csrftoken|sign|signature")
_SCRUBS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer xyz / Basic xyz
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {REDACTED}"),
    # credentials inside a URL: scheme://user:password@host
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^@\s/]+@"), rf"\1{REDACTED}@"),
    # quoted pairs as in a repr or JSON: 'password': 'x', "token": "x", (b'authorization', b'x')
    (re.compile(rf"""(?i)(b?["']({_WORDS})["']\s*[:,]\s*b?)(["'])(?:\\.|(?!\3).)*\3"""), rf"\1'{REDACTED}'"),
    # unquoted pairs: password=x, token: x, dealerdesk_session=x (query strings, cookies, key=value logs)
    (re.compile(rf"(?i)\b({_WORDS}|dealerdesk_session|csrftoken)(\s*[=:]\s*)[^\s&;,'\"}}\])]+"), rf"\1\2{REDACTED}"),
]


def scrub(text: str) -> str:
    """Free text with secrets replaced by `[redacted]` (messages, exception texts, tracebacks)."""
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    """A logged value with every secret removed: secret-sounding keys lose their value, text is scrubbed."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", b""):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # header lists: [(b"authorization", b"Bearer …")]
        if len(value) == 2 and isinstance(value[0], (str, bytes)) and _SECRET_KEY.search(_text(value[0])):
            return (value[0], REDACTED)
        return [redact(v) for v in value]
    if isinstance(value, (str, bytes)):
        return scrub(_text(value))
    return value


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _redact_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return {key: redact(value, "" if key == "event" else key) for key, value in event.items()}


def _plain_exception(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """`exc_info` → the plain traceback text (no locals), so that it can be scrubbed like any text."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            import sys

            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if exc_info[0] is not None:
            event["exception"] = "".join(traceback.format_exception(*exc_info))
    return event


# Loggers whose formatter reads the record's arguments one by one (uvicorn's access log: client, method, path,
# HTTP version, status): their arguments are scrubbed one by one instead of being folded into the message.
_FORMATTED_FROM_ARGS = frozenset({"uvicorn.access"})


def _scrubbed_record_factory(factory):
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            if record.name in _FORMATTED_FROM_ARGS and isinstance(record.args, tuple):
                record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
            else:
                record.msg, record.args = scrub(record.getMessage()), ()
        except Exception:  # a malformed format string: keep the record as logging would
            return record
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    make.scrubbing = True
    return make


def configure_logging() -> None:
    """Install the redaction for structlog and for stdlib logging (idempotent; app, worker and launcher call it)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _plain_exception,
            _redact_event,
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
        ],
    )
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "scrubbing", False):
        logging.setLogRecordFactory(_scrubbed_record_factory(factory))
