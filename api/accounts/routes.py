"""Passwords over the API: change one's own (every token ends, the client asks for a new one), activate an account."""

from __future__ import annotations

import msgspec
from litestar import Request, post

from api.params import text
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


ROUTES = [change_password, activate]
