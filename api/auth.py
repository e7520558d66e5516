"""Who is calling: bearer tokens for API clients, a session cookie for the web UI.

The result is a `Scope` on `request.user`; handlers receive it as the `actor` dependency.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult

from api.params import text
from crm.sessions import session_user
from crm.settings import get_settings
from crm.signin import sign_in
from tenants.accounts import issue_token, revoke_token, user_for_token
from tenants.errors import NotFound, PasswordChangeRequired
from tenants.roles import Role
from tenants.scope import Scope, TtlCache, scope_for_user

PUBLIC_PATHS = [
    "^/login",
    "^/logout",
    "^/static/",
    "^/schema",
    "^/health",
    "^/metrics",
    "^/api/v1/auth/token",
    "^/api/v1/auth/activate",
    "^/activate/",
    "^/favicon.ico",
]


# What a user who must choose a new password may still reach: the password form and its API, and signing out.
WHILE_CHANGING_PASSWORD = frozenset({"/account/password", "/api/v1/account/password", "/api/v1/auth/revoke", "/api/v1/me"})


# What exists for a user of no group (the platform admin): the platform's own pages, their account and inbox.
# Everything else is a group's, and a group's data does not exist for them (404, as for an unknown id).
OUTSIDE_ANY_GROUP = ("/platform", "/api/v1/platform/", "/audit", "/api/v1/audit", "/account/", "/api/v1/account/",
                     "/api/v1/auth/", "/api/v1/me", "/notifications", "/notification-settings", "/api/v1/notifications",
                     "/events")


def _outside_any_group(path: str) -> bool:
    return path == "/" or path.startswith(OUTSIDE_ANY_GROUP)


class AuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app, cache: TtlCache, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.cache = cache

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        user_id: int | None = None
        header = connection.headers.get("authorization", "")
        if connection.scope["path"].startswith("/api/"):
            if header.lower().startswith("bearer "):
                token = header[7:].strip()
                user_id = await self.cache.get(("token", token), lambda: user_for_token(token))
            kind = "token"
        else:
            user_id = await session_user((connection.scope.get("session") or {}).get("sid"))
            kind = "session"
        scope = None
        if user_id:
            scope = await self.cache.get(("user", int(user_id)), lambda: scope_for_user(int(user_id)))
        if scope is None:
            raise NotAuthorizedException()
        if scope.must_change_password and connection.scope["path"] not in WHILE_CHANGING_PASSWORD:
            raise PasswordChangeRequired()
        if scope.group_id is None and not _outside_any_group(connection.scope["path"]):
            raise NotFound("route")
        return AuthenticationResult(user=scope, auth=kind)


async def provide_scope(request: Request[Scope, Any, Any]) -> Scope:
    return request.user


def requires(*roles: Role):
    """A route guard: the caller must hold one of `roles`.

    `roles` is always a definition from `crm/` (e.g. `crm.major.service.BOARD_READERS`), the one the
    service itself checks and the navigation reads: a guard refuses early, it never decides alone.
    """

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        scope = connection.user
        if not isinstance(scope, Scope) or not scope.has_role(*roles):
            raise PermissionDeniedException()

    guard.__name__ = f"requires_{'_or_'.join(str(r) for r in roles)}"
    return guard


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: text(200, 1)
    password: text(256, 1)
    # 集团代码: names the group of the username; left out by the platform admin and when signing in by e-mail.
    group_code: text(32) = ""


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int


@post("/api/v1/auth/token", exclude_from_auth=True, tags=["auth"], status_code=200)
async def create_token(request: Request, data: TokenRequest) -> TokenResponse:
    """Exchange username and password for a bearer token (429 with Retry-After while sign-in is throttled)."""
    user_id = await sign_in(data.username, data.password, address=client_address(request), group_code=data.group_code)
    if user_id is None:
        raise NotAuthorizedException(detail="集团代码、用户名或密码错误 / Wrong group code, username or password")
    token, ttl = await issue_token(user_id, get_settings().token_ttl_hours)
    return TokenResponse(access_token=token, token_type="bearer", expires_in=ttl)


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, uvicorn's --proxy-headers puts the forwarded one here)."""
    return request.client.host if request.client else "unknown"


@post("/api/v1/auth/revoke", status_code=204, tags=["auth"])
async def revoke(request: Request) -> None:
    """Revoke the bearer token of this request: at once here, within SCOPE_CACHE_SECONDS on other processes."""
    await revoke_token(request.headers.get("authorization", "")[7:].strip())
    request.app.state.caller_cache.clear()


class MeResponse(msgspec.Struct):
    user_id: int
    display_name: str
    group_id: int | None
    roles: list[str]
    store_ids: list[int]


@get("/api/v1/me", tags=["auth"])
async def me(actor: Scope) -> MeResponse:
    """Who the token belongs to and what it may see."""
    return MeResponse(
        user_id=actor.user_id,
        display_name=actor.display_name,
        group_id=actor.group_id,
        roles=sorted(actor.roles),
        store_ids=sorted(actor.store_ids),
    )
