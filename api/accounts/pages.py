"""Password pages: change one's own (a must after an activation or a temporary password), and the activation link.

All rules live in `tenants.accounts` and `tenants.passwords`; these handlers translate and render.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.i18n import extend
from api.web.pages import remember_group_code
from crm.sessions import open_session
from tenants import accounts
from tenants.errors import InvalidInput, NotFound
from tenants.passwords import MIN_LENGTH
from tenants.scope import Scope

extend({
    "account.password.title": ("修改密码", "Change password"),
    "account.password.forced": ("首次登录或使用临时密码登录后,请先设置新密码。",
                                "After a first sign-in or a temporary password, please choose a new password."),
    "account.password.current": ("当前密码", "Current password"),
    "account.password.new": ("新密码", "New password"),
    "account.password.repeat": ("再次输入新密码", "New password again"),
    "account.password.rules": ("至少 {n} 个字符,不能包含用户名,不能是常见密码。修改后其他设备上的登录和 API 令牌将失效。",
                               "At least {n} characters, not containing the username, not a common password. "
                               "Your other sign-ins and API tokens end when you change it."),
    "account.password.submit": ("保存新密码", "Save the new password"),
    "account.password.saved": ("密码已修改,其他设备上的登录已退出。", "Password changed; your other sign-ins have ended."),
    "account.password.mismatch": ("两次输入的新密码不一致", "The two new passwords differ"),
    "account.activate.title": ("激活账号", "Activate your account"),
    "account.activate.intro": ("您好,{name}!请为账号设置密码。", "Hello {name}! Choose the password of your account."),
    "account.activate.login": ("登录时请填写 集团代码 {code} 和 用户名 {username}。",
                               "Sign in with group code {code} and username {username}."),
    "account.activate.invalid": ("激活链接无效、已使用或已过期,请联系管理员重新发送。",
                                 "This activation link is unknown, used or expired; ask your admin for a new one."),
    "account.activate.submit": ("设置密码", "Set the password"),
})


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
