"""Users, passwords (argon2), sign-in by group code and username, activation links and API bearer tokens.

A username is unique within its group, so a group user is named by the group's code (集团代码) and the
username; the platform admin, who belongs to no group, by the username alone; an e-mail address names
a user when exactly one active user has it. A new password always passes `tenants.passwords.check`.
Changing a password or setting a temporary one ends the user's sessions and revokes their API tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crm import clock, lists
from crm.db import transaction
from crm.sessions import end_all_sessions
from crm.settings import get_settings
from tenants import audit, passwords
from tenants.errors import Forbidden, InvalidInput, NotFound
from tenants.roles import GROUP_ROLES, STORE_ROLES, Role
from tenants.scope import Scope
from tenants.tables import ActivationToken, ApiToken, Store, User, UserRole

# Who lists and revokes the API tokens of the group's users (each user always may their own).
TOKEN_ADMINS = frozenset({Role.GROUP_ADMIN})
ACTIVATION_TTL = timedelta(days=7)
ACTIVATION_PATH = "/activate/"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def create_user(
    *,
    username: str,
    password: str,
    display_name: str,
    roles: list[Role],
    group_id: int | None = None,
    store_id: int | None = None,
    brand_division_id: int | None = None,
    email: str = "",
    phone: str = "",
    password_hash: str | None = None,
) -> int:
    """Create a user with roles; store roles need a store, group roles a group. Returns the id."""
    if any(r in STORE_ROLES for r in roles) and store_id is None:
        raise InvalidInput.one("store_id", "门店角色必须指定门店", "Store roles need a store")
    if any(r in GROUP_ROLES for r in roles) and group_id is None:
        raise InvalidInput.one("group_id", "集团角色必须指定集团", "Group roles need a group")
    if store_id is not None:
        store = await Store.select(Store.group).where(Store.id == store_id).first()
        if store is None:
            raise InvalidInput.one("store_id", "门店不存在", "Unknown store")
        group_id = store["group"]
    taken = await User.exists().where(User.username == username, User.group == group_id) if group_id is not None \
        else await User.exists().where(User.username == username, User.group.is_null())
    if taken:
        raise InvalidInput.one("username", "该用户名已被使用", "This username is already taken")
    async with User._meta.db.transaction():
        user = User(
            username=username,
            password_hash=password_hash or hash_password(password),
            display_name=display_name,
            group=group_id,
            store=store_id,
            brand_division=brand_division_id,
            email=email,
            phone=phone,
            created_at=clock.now(),
        )
        await user.save()
        if roles:
            await UserRole.insert(*[UserRole(user=user.id, role=str(r)) for r in roles])
    return user.id


class GroupSuspended(Forbidden):
    """The password was right, but the user's group is suspended by the platform: nobody of it signs in."""

    def __init__(self) -> None:
        super().__init__("该集团账号已停用，请联系平台管理员", "This dealer group is suspended; contact the platform admin")


async def authenticate(username: str, password: str, *, group_code: str = "") -> int | None:
    """The user id when the login names an active user and the password matches, else None.

    GroupSuspended when the password is right but the user's group is suspended.
    """
    user = await _user_to_sign_in(username.strip(), group_code.strip())
    # argon2 takes tens of milliseconds of CPU on purpose: in a thread, so other requests keep being served.
    if user is None:
        await anyio.to_thread.run_sync(_hasher.hash, password)  # same work either way: no probing by timing
        return None
    if not await _password_matches(user["password_hash"], password):
        return None
    if user["group"] is not None and not user["group.active"]:
        raise GroupSuspended()
    return user["id"]


async def record_sign_in(user_id: int) -> None:
    """When the user last signed in (the platform console shows each group's latest)."""
    await User.update({User.last_sign_in_at: clock.now()}).where(User.id == user_id)


async def change_password(actor: Scope, *, current_password: str, new_password: str) -> None:
    """Change one's own password (the current one is required). Every session and API token of the user ends:
    the caller opens a fresh session for the browser it came from."""
    user = await User.select(User.username, User.password_hash).where(User.id == actor.user_id).first()
    if user is None:
        raise NotFound("user")
    if not await _password_matches(user["password_hash"], current_password):
        raise InvalidInput.one("current_password", "当前密码不正确", "The current password is wrong")
    if new_password == current_password:
        raise InvalidInput.one("new_password", "新密码不能与当前密码相同", "Choose a password other than the current one")
    passwords.check(new_password, username=user["username"], field="new_password")
    new_hash = await anyio.to_thread.run_sync(hash_password, new_password)
    async with transaction():
        await User.update({User.password_hash: new_hash, User.must_change_password: False}).where(
            User.id == actor.user_id
        )
        await revoke_tokens(actor.user_id)
        await audit.record(actor, "user.password_change", "user", actor.user_id)
    await end_all_sessions(actor.user_id)


async def set_temporary_password(actor: Scope, user_id: int) -> str:
    """A new random password for a user of the actor's group (重置密码); they must change it at their next sign-in.

    Their sessions and API tokens end at once. Who may reset whose password is the caller's rule; a user of
    another group is NotFound. Returns the password, to be handed over once.
    """
    user = await _user_of_group(actor, user_id)
    password = passwords.random_password()
    new_hash = await anyio.to_thread.run_sync(hash_password, password)
    async with transaction():
        await User.update({User.password_hash: new_hash, User.must_change_password: True}).where(User.id == user_id)
        await revoke_tokens(user_id)
        await audit.record(actor, "user.temporary_password", "user", user_id, after={"username": user["username"]})
    await end_all_sessions(user_id)
    return password


async def issue_activation(user_id: int) -> str:
    """A one-time activation link (absolute when PUBLIC_BASE_URL is set) for the user to choose a password.

    Earlier unused links of the user stop working; the user must choose a password before anything else.
    The caller records the audit entry of what it did (creating the user, resending the link).
    """
    token = secrets.token_urlsafe(32)
    now = clock.now()
    async with transaction():
        await ActivationToken.update({ActivationToken.used_at: now}).where(
            ActivationToken.user == user_id, ActivationToken.used_at.is_null()
        )
        await ActivationToken.insert(
            ActivationToken(user=user_id, token_hash=_digest(token), expires_at=now + ACTIVATION_TTL, created_at=now)
        )
        await User.update({User.must_change_password: True}).where(User.id == user_id)
    return get_settings().public_base_url.rstrip("/") + ACTIVATION_PATH + token


async def activation_of(token: str) -> dict | None:
    """The user an unused, unexpired activation token is for (id, username, display name, group), else None."""
    row = await ActivationToken.select(
        ActivationToken.user.id, ActivationToken.user.username, ActivationToken.user.display_name,
        ActivationToken.user.group, ActivationToken.user.group.code, ActivationToken.user.group.name,
    ).where(
        ActivationToken.token_hash == _digest(token), ActivationToken.used_at.is_null(),
        ActivationToken.expires_at > clock.now(), ActivationToken.user.active.eq(True),
    ).first()
    if row is None:
        return None
    return {
        "user_id": row["user.id"], "username": row["user.username"], "display_name": row["user.display_name"],
        "group_id": row["user.group"], "group_code": row["user.group.code"] or "",
        "group_name": row["user.group.name"] or "",
    }


async def activate(token: str, new_password: str) -> dict:
    """Choose a password with an activation link; the link is used up. Returns what `activation_of` gave.

    NotFound when the link is unknown, used or expired.
    """
    account = await activation_of(token)
    if account is None:
        raise NotFound("activation")
    passwords.check(new_password, username=account["username"], field="password")
    new_hash = await anyio.to_thread.run_sync(hash_password, new_password)
    async with transaction():
        used = await ActivationToken.update({ActivationToken.used_at: clock.now()}).where(
            ActivationToken.token_hash == _digest(token), ActivationToken.used_at.is_null()
        ).returning(ActivationToken.id)
        if not used:  # the same link submitted twice at once: the first one wins
            raise NotFound("activation")
        await User.update({User.password_hash: new_hash, User.must_change_password: False}).where(
            User.id == account["user_id"]
        )
        who = Scope(user_id=account["user_id"], group_id=account["group_id"], roles=frozenset(),
                    store_ids=frozenset(), display_name=account["display_name"])
        await audit.record(who, "user.activate", "user", account["user_id"])
    return account


async def revoke_tokens(user_id: int) -> None:
    """Every API token of the user stops working (within SCOPE_CACHE_SECONDS on other processes)."""
    await ApiToken.delete().where(ApiToken.user == user_id)


async def _user_to_sign_in(login: str, group_code: str) -> dict | None:
    columns = (User.id, User.password_hash, User.group, User.group.active)
    if group_code:
        return await User.select(*columns).where(
            User.group.code == group_code, User.username == login, User.active.eq(True)
        ).first()
    if "@" in login:
        found = await User.select(*columns).where(User.email == login, User.active.eq(True)).limit(2)
        return found[0] if len(found) == 1 else None
    return await User.select(*columns).where(User.group.is_null(), User.username == login, User.active.eq(True)).first()


async def _password_matches(password_hash: str, password: str) -> bool:
    try:
        await anyio.to_thread.run_sync(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


async def _user_of_group(actor: Scope, user_id: int) -> dict:
    user = await User.select(User.id, User.username).where(
        User.id == user_id, User.group == (actor.group_id or -1)
    ).first()
    if user is None:
        raise NotFound("user")
    return user


async def issue_token(user_id: int, ttl_hours: int) -> tuple[str, int]:
    """A new bearer token for the user and its lifetime in seconds."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    await ApiToken.insert(
        ApiToken(
            user=user_id,
            token_hash=_digest(token),
            expires_at=now + timedelta(hours=ttl_hours),
            created_at=now,
        )
    )
    return token, ttl_hours * 3600


async def user_for_token(token: str) -> int | None:
    row = await ApiToken.select(ApiToken.user).where(
        ApiToken.token_hash == _digest(token), ApiToken.expires_at > clock.now()
    ).first()
    return row["user"] if row else None


async def revoke_token(token: str) -> None:
    """The token stops working (its owner signs out of an API client)."""
    await ApiToken.delete().where(ApiToken.token_hash == _digest(token))


TOKEN_LIST = lists.ListSpec(
    name="api_tokens",
    sorts={"created": (ApiToken.created_at,), "expires": (ApiToken.expires_at,)},
    default_sort="-created",
    tiebreak=ApiToken.id,
)


async def tokens_of(actor: Scope, user_id: int | None = None, *, want: lists.ListQuery
                    ) -> tuple[list[dict], int]:
    """A page of the unexpired API tokens of the caller (`user_id` None) or of a user of the caller's group (a token
    admin only; NotFound for a user of another group), and their total: id and times, never the token (only its
    hash is kept)."""
    owner = await _token_owner(actor, user_id)
    live = (ApiToken.user == owner) & (ApiToken.expires_at > clock.now())
    return await lists.fetch(TOKEN_LIST, want, rows=ApiToken.select(
        ApiToken.id, ApiToken.created_at, ApiToken.expires_at).where(live), count=ApiToken.count().where(live))


async def revoke_token_by_id(actor: Scope, token_id: int, user_id: int | None = None) -> None:
    """Revoke one API token of the caller (`user_id` None) or of a user of the caller's group (a token admin
    only); NotFound when it is not that user's. Audited; other processes stop honouring it within
    SCOPE_CACHE_SECONDS."""
    owner = await _token_owner(actor, user_id)
    async with transaction():
        gone = await ApiToken.delete().where(ApiToken.id == token_id, ApiToken.user == owner).returning(ApiToken.id)
        if not gone:
            raise NotFound("token")
        await audit.record(actor, "user.token_revoke", "user", owner, before={"token_id": token_id})


async def _token_owner(actor: Scope, user_id: int | None) -> int:
    if user_id is None or user_id == actor.user_id:
        return actor.user_id
    actor.require_role(*TOKEN_ADMINS)  # before any lookup: the refusal says nothing about the id
    await _user_of_group(actor, user_id)
    return user_id


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
