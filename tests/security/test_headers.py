"""Security headers on pages, API answers and errors; no inline script or handler left in the templates."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from api.security import HSTS

ROOT = Path(__file__).resolve().parents[2]


def _assert_protected(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_a_page_an_api_answer_and_an_error_carry_the_headers(client, browser_session, tenant):
    _assert_protected(await client.get("/login"))
    web = await browser_session(tenant.usernames["store_gm@A"])
    page = await web.get("/")
    assert page.status_code == 200
    _assert_protected(page)
    api = await client.get("/api/v1/me", headers=await tenant.headers("store_gm@A"))
    assert api.status_code == 200
    _assert_protected(api)
    _assert_protected(await client.get("/api/v1/me"))  # 401
    _assert_protected(await client.get("/no-such-page"))
    assert "strict-transport-security" not in page.headers  # plain HTTP (SECURE_COOKIES off)


async def test_hsts_when_secure_cookies_are_on(db_pool):
    from dataclasses import replace

    from api.app import create_app
    from crm.settings import get_settings

    app = create_app(replace(get_settings(), secure_cookies=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        response = await c.get("/health")
    assert response.headers["strict-transport-security"] == HSTS
    _assert_protected(response)


def test_templates_hold_no_inline_script_style_or_handler():
    """The CSP refuses inline code: scripts and styles live in static files."""
    offenders = []
    for template in ROOT.glob("api/**/templates/**/*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+=", r"javascript:",
                        r"\shx-on"):
            offenders += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []
