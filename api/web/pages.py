"""Login, logout and the landing page."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from tenants.accounts import authenticate
from tenants.scope import Scope


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = "/"


@get("/login", exclude_from_auth=True, include_in_schema=False)
async def login_form(next: str = "/") -> Template:
    return Template("login.html", context={"next": next, "error": None})


@post("/login", exclude_from_auth=True, include_in_schema=False)
async def login_submit(
    request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Any:
    user_id = await authenticate(data.username, data.password)
    if user_id is None:
        return Template(
            "login.html", context={"next": data.next, "error": "用户名或密码错误"}, status_code=401
        )
    request.set_session({"user_id": user_id})
    target = data.next if data.next.startswith("/") and not data.next.startswith("//") else "/"
    return Redirect(path=target)


@post("/logout", include_in_schema=False, exclude_from_auth=True)
async def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect(path="/login")


@get("/", include_in_schema=False)
async def home(request: Request[Scope, Any, Any]) -> Template:
    return Template("home.html", context={"me": request.user})
