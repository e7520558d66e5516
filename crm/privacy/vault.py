"""Personal identifiers encrypted at rest (个人信息加密存储): mobiles and ID numbers sealed with AES-256-GCM.

A sealed value is stored as the token `v1:<key id>:<base64 of nonce + ciphertext>`; the key id names the key
of `PII_KEYS` it was sealed with, so keys can be rotated: the first key seals, every listed key opens, and
`dealerdesk pii-rotate` re-seals old rows with the first key. A sealed column is found through a keyed hash
(HMAC-SHA256 with `PII_HASH_KEY`) of the value in `<column>_hash`, and phone columns also through a keyed
hash of the last four digits in `<column>_tail` (search by the last 4 digits of a phone). The tail is hashed,
not stored in clear, so that a copy of the database alone gives nothing away; the hash key is not rotated
(rows are found by it), only the sealing keys are.

This module is the one place that seals and opens: the tenant scope (`tenants.scope`) opens what its reads
return and seals what its updates write; inserts call `seal_row` on the new row. Masking (`policy.shield`)
then works on clear values as before.

Keys come from the environment (`PII_KEYS="k2:<base64>,k1:<base64>"`, 32-byte keys; `PII_HASH_KEY=<base64>`).
The embedded demo (SQLite, no `SECURE_COOKIES`) without them generates both once into `DEALERDESK_VAR/pii_keys`
(mode 0600); any other deployment refuses to start without them. No key is ever logged or shown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from piccolo.columns import Column

from crm.settings import get_settings

VERSION = "v1"
# The sealed columns of each table (by table name), with `<column>_hash` and, for phones, `<column>_tail` where the
# table has them.
SEALED: dict[str, tuple[str, ...]] = {
    "customer": ("mobile", "phone2", "id_number"),
    "customer_identity": ("mobile", "id_number"),
    "complaint": ("complainant_phone",),
    "notification": ("address",),  # a customer's mobile, on the SMS sent to them (never searched: no hash)
}
SEALED_NAMES = frozenset(name for names in SEALED.values() for name in names)
# Rows recording a value of a customer's field (`field`): the history, correction requests. Their value columns
# are sealed when the field is one of SEALED_FIELDS (no lookup hash: they are read, never searched); so are the
# values in a callback's corrections record.
SEALED_FIELDS = frozenset(SEALED["customer"])
FIELD_VALUES: dict[str, tuple[str, ...]] = {
    "customer_change": ("old_value", "new_value"),
    "customer_correction": ("old_value", "proposed_value"),
}
_VALUE_KEYS = frozenset(name for names in FIELD_VALUES.values() for name in names)
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_NONCE_BYTES = 12
KEY_FILE = "pii_keys"


class VaultError(RuntimeError):
    """Keys missing or malformed, or a token that no configured key opens: never silently ignored."""


@dataclass(frozen=True)
class Keys:
    current: str
    sealing: dict[str, AESGCM] = field(repr=False)
    hashing: bytes = field(repr=False)


def seal(value: str) -> str:
    """The token of `value` sealed with the current key ("" stays "": an absent value is not a secret)."""
    if not value:
        return value
    keys = get_keys()
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = keys.sealing[keys.current].encrypt(nonce, value.encode(), None)
    return f"{VERSION}:{keys.current}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(token: str) -> str:
    """The clear value of a token; VaultError when the token is not one or no configured key opens it."""
    if not token:
        return token
    version, key_id, body = (token.split(":", 2) + ["", ""])[:3]
    if version != VERSION or not body:
        raise VaultError("a personal-data column holds a value that is not a sealed token")
    key = get_keys().sealing.get(key_id)
    if key is None:
        raise VaultError(f"personal data sealed with key {key_id!r}, which PII_KEYS does not list")
    try:
        raw = base64.b64decode(body, validate=True)
        return key.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
    except (InvalidTag, binascii.Error, ValueError) as error:
        raise VaultError(f"personal data sealed with key {key_id!r} does not open with it (wrong key?)") from error


def lookup(value: str) -> str:
    """The keyed hash a sealed column is found by (callers normalise first: 11 digits, an upper-case ID)."""
    return _digest("value", value) if value else ""


def tail_lookup(value: str) -> str:
    """The keyed hash of a phone's last 4 digits ("" when it has fewer)."""
    digits = re.sub(r"\D", "", value or "")
    return _digest("tail", digits[-4:]) if len(digits) >= 4 else ""


def sealed_values(table: Any, values: dict) -> dict:
    """Values of a write to `table` with its sealed columns sealed and their lookup columns added.

    Keys may be columns or column names, as Piccolo's `update` accepts them.
    """
    names = SEALED.get(table._meta.tablename)
    if not names:
        return values
    out: dict = {}
    for key, value in values.items():
        name = key if isinstance(key, str) else key._meta.name
        if name not in names or not isinstance(value, str) or value.startswith(f"{VERSION}:"):
            out[key] = value
            continue
        out[key] = seal(value)
        out.update(_lookups(table, name, value))
    return out


def seal_row(row: Any) -> Any:
    """A new row (a Piccolo table instance) with its sealed columns sealed and looked-up, before its insert."""
    tablename = row._meta.tablename
    for name, value in sealed_values(type(row), {n: getattr(row, n) for n in SEALED.get(tablename, ())}).items():
        setattr(row, name, value)
    if getattr(row, "field", None) in SEALED_FIELDS:
        for name in FIELD_VALUES.get(tablename, ()):
            value = getattr(row, name)
            if value and not value.startswith(f"{VERSION}:"):
                setattr(row, name, seal(value))
    return row


def sealed_corrections(corrections: dict[str, list[str]]) -> dict[str, list[str]]:
    """A {field: [old, new]} record (a callback's corrections, stored as JSON) with sealed fields' values sealed."""
    return {name: [seal(v) if name in SEALED_FIELDS and v and not v.startswith(f"{VERSION}:") else v for v in values]
            for name, values in corrections.items()}


def opened_corrections(corrections: dict[str, list[str]]) -> dict[str, list[str]]:
    """The same record in clear."""
    return {name: [unseal(v) if isinstance(v, str) and v.startswith(f"{VERSION}:") else v for v in values]
            for name, values in corrections.items()}


def open_rows(rows: Any) -> Any:
    """Query results (a list or one of dicts or table instances, or None) with sealed values opened in place.

    Keys are matched by their last part, so joined columns (`customer.mobile`) open too.
    """
    for row in rows if isinstance(rows, list) else [rows]:
        if isinstance(row, dict):
            values = row.get("field") in SEALED_FIELDS
            for key, value in row.items():
                if isinstance(value, str) and value.startswith(f"{VERSION}:") and (
                    key.rsplit(".", 1)[-1] in SEALED_NAMES or (values and key in _VALUE_KEYS)
                ):
                    row[key] = unseal(value)
        elif row is not None:
            names = SEALED.get(row._meta.tablename, ())
            if getattr(row, "field", None) in SEALED_FIELDS:
                names += FIELD_VALUES.get(row._meta.tablename, ())
            for name in names:
                value = getattr(row, name, None)
                if isinstance(value, str) and value.startswith(f"{VERSION}:"):
                    setattr(row, name, unseal(value))
    return rows


def opening(query: Any, table: Any, columns: tuple = ()) -> Any:
    """`query` set to open the sealed values it returns, when it may return any (whole rows or sealed columns)."""
    if not hasattr(query, "callback"):
        return query
    if columns:
        returns_sealed = any(
            isinstance(c, Column) and c._meta.name in (SEALED.get(c._meta.table._meta.tablename, ())
                                                       + FIELD_VALUES.get(c._meta.table._meta.tablename, ()))
            for c in columns
        )
    else:
        returns_sealed = table._meta.tablename in SEALED or table._meta.tablename in FIELD_VALUES
    return query.callback(open_rows) if returns_sealed else query


def _lookups(table: Any, name: str, value: str) -> dict[str, str]:
    columns = {c._meta.name for c in table._meta.columns}
    found = {f"{name}_hash": lookup(value), f"{name}_tail": tail_lookup(value)}
    return {column: digest for column, digest in found.items() if column in columns}


def _digest(purpose: str, value: str) -> str:
    return hmac.new(get_keys().hashing, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def get_keys() -> Keys:
    """The keys, read once: from the environment, else (embedded demo only) from the generated key file."""
    sealing, hashing = os.environ.get("PII_KEYS", "").strip(), os.environ.get("PII_HASH_KEY", "").strip()
    if not sealing and not hashing:
        settings = get_settings()
        if not settings.is_sqlite or settings.secure_cookies:
            raise VaultError("PII_KEYS and PII_HASH_KEY must be set: customers' mobiles and ID numbers are encrypted "
                             "with them (see deploy/PRODUCTION.md)")
        sealing, hashing = _key_file(settings.var_dir / KEY_FILE)
    if not sealing or not hashing:
        raise VaultError("set both PII_KEYS and PII_HASH_KEY, or neither (embedded demo)")
    return _parse(sealing, hashing)


def reset_keys() -> None:
    """Forget the keys read (tests change the environment)."""
    get_keys.cache_clear()


def new_key() -> str:
    """A new random 32-byte key, base64 (for PII_KEYS and PII_HASH_KEY)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def throwaway_keys() -> dict[str, str]:
    """PII_KEYS and PII_HASH_KEY for a throwaway database (the benchmarks'); never for data that is kept."""
    return {"PII_KEYS": f"k1:{new_key()}", "PII_HASH_KEY": new_key()}


def _parse(sealing: str, hashing: str) -> Keys:
    keys: dict[str, AESGCM] = {}
    for part in sealing.split(","):
        key_id, _, encoded = part.strip().partition(":")
        if not _KEY_ID.fullmatch(key_id) or key_id in keys:
            raise VaultError("PII_KEYS: each key is <id>:<base64>, ids of letters, digits, _ or -, each once")
        keys[key_id] = AESGCM(_key_bytes(encoded, f"PII_KEYS key {key_id!r}"))
    return Keys(current=next(iter(keys)), sealing=keys, hashing=_key_bytes(hashing, "PII_HASH_KEY"))


def _key_bytes(encoded: str, what: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise VaultError(f"{what} must be 32 bytes, base64-encoded")
    return key


def _key_file(path: Path) -> tuple[str, str]:
    """The embedded demo's keys, generated once (mode 0600); concurrent processes agree on the first file written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(f"PII_KEYS=k1:{new_key()}\nPII_HASH_KEY={new_key()}\n")
        try:
            os.link(draft, path)  # atomic: the first process to link wins, the others read its keys
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return values.get("PII_KEYS", "").strip(), values.get("PII_HASH_KEY", "").strip()
