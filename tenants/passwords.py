"""The password policy (密码策略), decided once: every place that sets a password checks it here.

A password has at least `MIN_LENGTH` characters, does not contain the username, and is not one of the
common passwords (`common_passwords.txt`). Messages are in Chinese and English, on the field that was typed.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from tenants.errors import FieldProblem, InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 128
_COMMON = Path(__file__).with_name("common_passwords.txt")
# A temporary password: letters and digits that cannot be mistaken for one another when read aloud or typed.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def check(password: str, *, username: str, field: str = "password") -> None:
    """InvalidInput on `field` with every rule the password breaks; nothing when it may be used."""
    problems = [FieldProblem(field, zh, en) for zh, en in problems_of(password, username=username)]
    if problems:
        raise InvalidInput(problems)


def problems_of(password: str, *, username: str) -> list[tuple[str, str]]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append((f"密码至少需要 {MIN_LENGTH} 个字符", f"The password needs at least {MIN_LENGTH} characters"))
    if len(password) > MAX_LENGTH:
        problems.append((f"密码不能超过 {MAX_LENGTH} 个字符", f"The password may have at most {MAX_LENGTH} characters"))
    if username.strip() and username.strip().lower() in password.lower():
        problems.append(("密码不能包含用户名", "The password must not contain the username"))
    if password.lower() in common_passwords():
        problems.append(("密码过于常见，容易被猜中，请换一个", "This password is too common and easily guessed"))
    return problems


def random_password() -> str:
    """A temporary password that passes the policy (no username of ours fits in 12 random characters by chance)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))
