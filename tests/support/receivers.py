"""Local stand-ins for the outside world, started by the tests: an HTTP receiver for webhooks and SMS
gateways, and an SMTP server (aiosmtpd). Both are real servers on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict


@dataclass
class HttpReceiver:
    """Answers each POST with the next scripted (status, body), then with `default`."""

    url: str = ""
    script: list[tuple[int, dict]] = field(default_factory=list)
    default: tuple[int, dict] = (200, {"errcode": 0, "errmsg": "ok"})
    requests: list[Received] = field(default_factory=list)

    def answer(self) -> tuple[int, dict]:
        return self.script.pop(0) if self.script else self.default


@contextmanager
def http_receiver(script: list[tuple[int, dict]] | None = None) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(script=list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length)
            parts = urlsplit(self.path)
            receiver.requests.append(
                Received(
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(raw or b"{}"),
                )
            )
            status, body = receiver.answer()
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpInbox:
    url: str
    messages: list = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[SmtpInbox]:
    """aiosmtpd in its own thread; received messages land in `inbox.messages` (email.message objects)."""
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    from deploy.services import free_port

    port = free_port()
    inbox = SmtpInbox(url=f"smtp://127.0.0.1:{port}?sender=crm@dealerdesk.test")

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            inbox.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
