"""Users, passwords (argon2) and API bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crm import clock
from crm.db import transaction
from crm.sessions import end_all_sessions
from tenants import audit
from tenants.errors import InvalidInput, NotFound
from tenants.roles import GROUP_ROLES, STORE_ROLES, Role
from tenants.scope import Scope
from tenants.tables import ApiToken, Store, User, UserRole

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


async def authenticate(username: str, password: str) -> int | None:
    """The user id when the username and password match an active user, else None."""
    user = await User.select(User.id, User.password_hash).where(
        User.username == username, User.active.eq(True)
    ).first()
    # argon2 takes tens of milliseconds of CPU on purpose: in a thread, so other requests keep being served.
    if user is None:
        await anyio.to_thread.run_sync(_hasher.hash, password)  # same work either way: no probing by timing
        return None
    try:
        await anyio.to_thread.run_sync(_hasher.verify, user["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    return user["id"]


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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_TEMPORARY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I: read out once


def new_temporary_password() -> str:
    """A random one-time password of 12 letters and digits (both present), shown once to whoever hands it over."""
    while True:
        password = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


async def set_temporary_password(actor: Scope, user_id: int) -> str:
    """Reset a user of the actor's group to a new temporary password and return it (shown once).

    The next sign-in must choose a new password; the user's sessions and API tokens end at once. Whether the
    actor may reset this user is the caller's decision (crm.organisation.people).
    """
    password = new_temporary_password()
    hashed = await anyio.to_thread.run_sync(hash_password, password)
    async with transaction():
        changed = await User.update({User.password_hash: hashed, User.must_change_password: True}).where(
            User.id == user_id, User.group == (actor.group_id or -1)
        ).returning(User.id)
        if not changed:
            raise NotFound("user")
        await ApiToken.delete().where(ApiToken.user == user_id)
        await audit.record(actor, "user.reset_password", "user", user_id, after={"must_change_password": True})
    await end_all_sessions(user_id)
    return password
