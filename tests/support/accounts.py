"""Accounts for the administration tests: a platform admin, a new group onboarded through the API, API tokens."""

from __future__ import annotations

import uuid

import httpx

from tenants.accounts import create_user
from tenants.roles import Role
from tests.support.builders import PASSWORD

TOKEN = "/api/v1/auth/token"
STRONG = "Lu-jia-zui-2026"  # passes the password policy


async def platform_admin() -> dict[str, str]:
    """A new platform admin (no group); its sign-in body (no group code)."""
    username = f"platform_{uuid.uuid4().hex[:8]}"
    await create_user(username=username, password=PASSWORD, display_name="平台运维", roles=[Role.PLATFORM_ADMIN])
    return {"username": username, "password": PASSWORD}


async def bearer(client: httpx.AsyncClient, login: dict[str, str]) -> dict[str, str]:
    response = await client.post(TOKEN, json=login)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def new_group_body(**overrides: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"code": f"N{tag}", "name": f"新集团{tag}", "timezone": "Asia/Shanghai", "admin_username": "admin",
            "admin_display_name": "林集团管理员", **overrides}


def token_of(link: str) -> str:
    return link.rsplit("/activate/", 1)[1]
