"""Passwords over the API: change one's own (every token ends, the client asks for a new one), activate an account."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Request, delete, get, post

from api.lists import PageParam, PageSizeParam, SortParam
from api.params import IdParam, text
from crm.lists import Page
from tenants import accounts
from tenants.scope import Scope


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: text(256, 1)
    new_password: text(256, 1)


class Activation(msgspec.Struct, forbid_unknown_fields=True):
    token: text(100, 1)
    password: text(256, 1)


class Activated(msgspec.Struct):
    group_code: str
    username: str


@post("/api/v1/account/password", status_code=204, tags=["auth"])
async def change_password(request: Request, actor: Scope, data: PasswordChange) -> None:
    """Change one's own password: the current one is required, the new one must pass the policy (400 with
    the rules it breaks, in Chinese and English). Every session and API token of the user ends, this one too."""
    await accounts.change_password(actor, current_password=data.current_password, new_password=data.new_password)
    request.app.state.caller_cache.clear()


@post("/api/v1/auth/activate", exclude_from_auth=True, tags=["auth"], status_code=200)
async def activate(data: Activation) -> Activated:
    """Choose the password of a new account with its one-time activation token (404 when unknown, used or
    expired); then sign in with the group code and username returned."""
    account = await accounts.activate(data.token, data.password)
    return Activated(group_code=account["group_code"], username=account["username"])


class TokenInfo(msgspec.Struct):
    id: int
    created_at: datetime
    expires_at: datetime


async def _tokens(actor: Scope, user_id: int | None, sort: str, page: int, page_size: int | None
                  ) -> Page[TokenInfo]:
    want = accounts.TOKEN_LIST.parse(sort=sort, page=page, page_size=page_size)
    rows, total = await accounts.tokens_of(actor, user_id, want=want)
    return want.page_of([TokenInfo(id=r["id"], created_at=r["created_at"], expires_at=r["expires_at"]) for r in rows],
                        total)


@get("/api/v1/account/tokens", tags=["auth"])
async def my_tokens(
    actor: Scope, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[TokenInfo]:
    """One's own unexpired API tokens (never the token itself: only its hash is kept), one page with the total.
    `sort`: `created` (default `-created`, newest first), `expires`; `-key` for descending."""
    return await _tokens(actor, None, sort, page, page_size)


@delete("/api/v1/account/tokens/{token_id:int}", tags=["auth"])
async def revoke_my_token(request: Request, actor: Scope, token_id: IdParam) -> None:
    """Revoke one of one's own API tokens (404 when it is not one's own)."""
    await accounts.revoke_token_by_id(actor, token_id)
    request.app.state.caller_cache.clear()


@get("/api/v1/users/{user_id:int}/tokens", tags=["people"])
async def user_tokens(
    actor: Scope, user_id: IdParam, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[TokenInfo]:
    """The unexpired API tokens of a user of the group (group admin; 404 for a user of another group), one page with
    the total. `sort`: `created` (default `-created`), `expires`."""
    return await _tokens(actor, user_id, sort, page, page_size)


@delete("/api/v1/users/{user_id:int}/tokens/{token_id:int}", tags=["people"])
async def revoke_user_token(request: Request, actor: Scope, user_id: IdParam, token_id: IdParam) -> None:
    """Revoke one API token of a user of the group (group admin), audited."""
    await accounts.revoke_token_by_id(actor, token_id, user_id)
    request.app.state.caller_cache.clear()


ROUTES = [change_password, activate, my_tokens, revoke_my_token, user_tokens, revoke_user_token]
