"""The web UI over HTTP, as a browser would use it: signing in and the CSRF token of a form."""

from __future__ import annotations

import re

import httpx

from tests.support.builders import PASSWORD


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_path: str = "/"):
    page = await client.get("/login", params={"next": next_path})
    form = {"username": username, "password": password, "next": next_path, "_csrf_token": csrf_of(page.text)}
    return await client.post("/login", data=form)


def csrf_of(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)
