"""The web UI over HTTP, as a browser would use it: signing in and the CSRF token of a form."""

from __future__ import annotations

import re

import httpx

from tests.support.builders import PASSWORD, group_code_of


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_path: str = "/",
                  group_code: str | None = None):
    """Through the login form; the group code is the user's own unless given."""
    page = await client.get("/login", params={"next": next_path})
    if group_code is None:
        group_code = await group_code_of(username)
    form = {"group_code": group_code, "username": username, "password": password, "next": next_path,
            "_csrf_token": csrf_of(page.text)}
    return await client.post("/login", data=form)


def csrf_of(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)
