"""Tenant tables: a dealer group (经销商集团) owns brand divisions, regions and 4S stores; users belong to a group."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class DealerGroup(Table, tablename="dealer_group"):
    """经销商集团: the top tenant; no data ever crosses groups."""

    name = Varchar(length=100, unique=True)
    code = Varchar(length=32, unique=True)
    timezone = Varchar(length=64, default="Asia/Shanghai")
    # A suspended group's users cannot sign in; its data and timers stay as they are.
    active = Boolean(default=True)
    created_at = Timestamptz()


class BrandDivision(Table, tablename="brand_division"):
    """品牌事业部, e.g. 上汽大众 or 一汽丰田."""

    group = ForeignKey(DealerGroup, null=False)
    name = Varchar(length=100)
    code = Varchar(length=32)


class Region(Table):
    """区域."""

    group = ForeignKey(DealerGroup, null=False)
    name = Varchar(length=100)


class Store(Table):
    """4S店: the tenant that owns customer data."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    brand_division = ForeignKey(BrandDivision, null=True)
    region = ForeignKey(Region, null=True)
    code = Varchar(length=32)
    name = Varchar(length=100)
    city = Varchar(length=50, default="")
    address = Varchar(length=200, default="")
    brand = Varchar(length=50, default="")  # the make the store sells (品牌), e.g. 大众; the division is who runs it
    timezone = Varchar(length=64, null=True, default=None)
    # A closed store (已关闭) takes no new intake and leaves the pickers; its history stays readable.
    active = Boolean(default=True)


class User(Table, tablename="app_user"):
    """A person who signs in. Group users have no store; store users have one."""

    group = ForeignKey(DealerGroup, null=True, index=True)
    store = ForeignKey(Store, null=True, index=True)
    brand_division = ForeignKey(BrandDivision, null=True)
    # Unique within a group (an index on (group, username) made by the migration): each group names its own people.
    username = Varchar(length=64)
    display_name = Varchar(length=100)
    password_hash = Varchar(length=255)
    email = Varchar(length=200, default="")
    phone = Varchar(length=20, default="")
    locale = Varchar(length=8, default="zh")
    active = Boolean(default=True)
    # Set by a temporary password or an activation: the next sign-in must choose a new password first.
    must_change_password = Boolean(default=False)
    last_sign_in_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class UserRole(Table, tablename="user_role"):
    user = ForeignKey(User, null=False, index=True)
    role = Varchar(length=40, index=True)


class ApiToken(Table, tablename="api_token"):
    """Bearer tokens for API clients; only the SHA-256 of the token is stored."""

    user = ForeignKey(User, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    created_at = Timestamptz()


class ActivationToken(Table, tablename="activation_token"):
    """A one-time link for a new user to choose a password; only the SHA-256 of the token is stored."""

    user = ForeignKey(User, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class AuditEntry(Table, tablename="audit_entry"):
    """操作日志: one administrative change (who, when, before → after). Append-only: never updated or deleted.

    `group` is the group whose settings changed; None for the platform's own actions (creating a group).
    """

    group = ForeignKey(DealerGroup, null=True, index=True)
    actor = ForeignKey(User, null=True)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=64, index=True)
    target_type = Varchar(length=40)
    target_id = Varchar(length=64, default="")
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    at = Timestamptz(index=True)
