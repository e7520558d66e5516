"""Sign-in, sign-out, the language switch and the landing page (工作台)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import client_address
from api.i18n import LANGUAGES, SESSION_KEY, language_of, translate
from api.web.templating import WORKPLACE_KEY
from crm.analytics.metrics import display
from crm.calendar.overrides import uncovered_years_to_tell
from crm.sessions import end_session, open_session
from crm.settings import get_settings
from crm.signin import sign_in
from crm.work import my_work
from tenants.accounts import GroupSuspended
from tenants.directory import workplace_of
from tenants.errors import NotFound, TooManyAttempts
from tenants.scope import Scope, scope_for_user


GROUP_CODE_COOKIE = "dealerdesk_group_code"  # the 集团代码 last used on this browser, filled in next time


class LoginForm(msgspec.Struct):
    group_code: str = ""
    username: str = ""
    password: str = ""
    next: str = "/"


@get("/login", exclude_from_auth=True, include_in_schema=False)
async def login_form(request: Request, next: str = "/", activated: bool = False) -> Template:
    group_code = request.cookies.get(GROUP_CODE_COOKIE, "")[:32]
    return Template("login.html", context={
        "next": safe_next(next), "error": None, "username": "", "group_code": group_code, "activated": activated,
    })


@post("/login", exclude_from_auth=True, include_in_schema=False)
async def login_submit(
    request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Template | Redirect:
    lang = language_of(request)
    username = data.username.strip()
    if not username or not data.password:
        return _login_failed(data, translate("login.required", lang), 400)
    group_code = data.group_code.strip()
    try:
        user_id = await sign_in(username, data.password, address=client_address(request), group_code=group_code)
    except TooManyAttempts as refused:
        page = _login_failed(data, refused.zh if lang == "zh" else refused.en, 429)
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    except GroupSuspended as refused:
        return _login_failed(data, refused.zh if lang == "zh" else refused.en, 403)
    actor = await scope_for_user(user_id) if user_id is not None else None
    if actor is None:
        return _login_failed(data, translate("login.failed", lang), 401)
    place = await workplace_of(actor)
    await end_session((request.scope.get("session") or {}).get("sid"))
    request.set_session(
        {
            "sid": await open_session(actor.user_id),
            SESSION_KEY: lang,
            WORKPLACE_KEY: {
                "group_name": place.group_name,
                "store_name": place.store_name,
                "timezone": place.timezone,
            },
        }
    )
    return remember_group_code(Redirect(path=safe_next(data.next), status_code=HTTP_303_SEE_OTHER), group_code)


@post("/logout", include_in_schema=False, exclude_from_auth=True)
async def logout(request: Request) -> Redirect:
    """Ends the session (server-side, so a copied cookie stops working too) but keeps the chosen language."""
    await end_session((request.scope.get("session") or {}).get("sid"))
    request.set_session({SESSION_KEY: language_of(request)})
    return Redirect(path="/login", status_code=HTTP_303_SEE_OTHER)


@get("/lang/{code:str}", exclude_from_auth=True, include_in_schema=False)
async def switch_language(request: Request, code: str, next: str = "/") -> Redirect:
    """Remember the UI language in the session and go back to the page the user was on."""
    if code not in LANGUAGES:
        raise NotFound("language")
    session = request.scope.get("session")
    request.set_session({**(session if isinstance(session, dict) else {}), SESSION_KEY: code})
    return Redirect(path=safe_next(next), status_code=HTTP_303_SEE_OTHER)


@get("/", include_in_schema=False)
async def home(request: Request[Scope, Any, Any]) -> Template:
    actor = request.user
    uncovered = await uncovered_years_to_tell(actor=actor)
    return Template("home.html", context={"actor": actor, "calendar_uncovered": uncovered,
                                          "work": await my_work(actor=actor), "display": display})


def remember_group_code(response: Redirect, group_code: str) -> Redirect:
    """The sign-in form fills in the 集团代码 this browser used last."""
    response.set_cookie(GROUP_CODE_COOKIE, group_code[:32], max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                        secure=get_settings().secure_cookies)
    return response


def safe_next(target: str) -> str:
    """Only a path on this site: no scheme, no host, no `//evil` or `/\\evil` tricks."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\r\n"):
        return "/"
    return target


def _login_failed(data: LoginForm, message: str, status: int) -> Template:
    return Template(
        "login.html",
        context={"next": safe_next(data.next), "error": message, "username": data.username.strip(),
                 "group_code": data.group_code.strip()[:32]},
        status_code=status,
    )


ROUTES = [login_form, login_submit, logout, switch_language, home]
