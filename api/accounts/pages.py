"""Password pages: change one's own (a must after an activation or a temporary password), and the activation link.

All rules live in `tenants.accounts` and `tenants.passwords`; these handlers translate and render.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.web.pages import remember_group_code
from crm.sessions import open_session
from tenants import accounts
from tenants.errors import InvalidInput, NotFound
from tenants.passwords import MIN_LENGTH
from tenants.scope import Scope


@get("/account/password", include_in_schema=False)
async def password_page(actor: Scope, saved: bool = False) -> Template:
    return _password_form(actor, saved=saved)


@post("/account/password", include_in_schema=False)
async def password_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    """Every session of the user ends with the change; this browser gets a fresh one and stays signed in."""
    form = await request.form()
    current, new = str(form.get("current_password", "")), str(form.get("new_password", ""))
    try:
        if new != str(form.get("repeat_password", "")):
            raise InvalidInput.one("repeat_password", "两次输入的新密码不一致", "The two new passwords differ")
        await accounts.change_password(actor, current_password=current, new_password=new)
    except InvalidInput as invalid:
        return _password_form(actor, problems=invalid.problems, status=400)
    request.app.state.caller_cache.clear()
    session = request.scope.get("session")
    request.set_session({**(session if isinstance(session, dict) else {}), "sid": await open_session(actor.user_id)})
    return Redirect(path="/account/password?saved=1", status_code=HTTP_303_SEE_OTHER)


@get("/activate/{token:str}", exclude_from_auth=True, include_in_schema=False)
async def activation_page(token: str) -> Template:
    account = await accounts.activation_of(token[:100])
    return _activation_form(token, account, status=200 if account else 404)


@post("/activate/{token:str}", exclude_from_auth=True, include_in_schema=False)
async def activation_submit(request: Request, token: str) -> Template | Redirect:
    form = await request.form()
    account = await accounts.activation_of(token[:100])
    password = str(form.get("password", ""))
    try:
        if account is None:
            raise NotFound("activation")
        if password != str(form.get("repeat_password", "")):
            raise InvalidInput.one("repeat_password", "两次输入的密码不一致", "The two passwords differ")
        await accounts.activate(token[:100], password)
    except NotFound:
        return _activation_form(token, None, status=404)
    except InvalidInput as invalid:
        return _activation_form(token, account, problems=invalid.problems, status=400)
    return remember_group_code(Redirect(path="/login?activated=1", status_code=HTTP_303_SEE_OTHER),
                               account["group_code"])


def _password_form(actor: Scope, *, saved: bool = False, problems=None, status: int = 200) -> Template:
    return Template("accounts/password.html", status_code=status, context={
        "forced": actor.must_change_password, "saved": saved, "problems": problems or [], "min_length": MIN_LENGTH,
    })


def _activation_form(token: str, account: dict | None, *, problems=None, status: int = 200) -> Template:
    return Template("accounts/activate.html", status_code=status, context={
        "token": token, "account": account, "problems": problems or [], "min_length": MIN_LENGTH,
    })


ROUTES = [password_page, password_submit, activation_page, activation_submit]
