"""Errors the domain raises; api/ turns each into one HTTP answer.

They live at the bottom layer so that tenants/, the crm areas and the adapters share them.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    def __init__(self, what: str = "object", problem: FieldProblem | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.problem = problem  # the request's field that named what was not found, when there is one


class Forbidden(DomainError):
    """The caller can see the object but their role may not do this."""

    def __init__(self, zh: str = "无权执行此操作", en: str = "Your role may not do this") -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


class Conflict(DomainError):
    def __init__(self, zh: str, en: str, extra: dict | None = None) -> None:
        super().__init__(en)
        self.zh, self.en, self.extra = zh, en, extra or {}


class RateLimited(DomainError):
    """Refused for now (too many tries or reads); the caller may try again after `retry_after` s."""

    def __init__(self, retry_after: int, zh: str, en: str) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after, self.zh, self.en = retry_after, zh, en


class TooManyAttempts(RateLimited):
    """Refused without trying (sign-in cooling down or locked); the caller may try again after `retry_after` s."""

    def __init__(self, retry_after: int, locked: bool) -> None:
        super().__init__(retry_after, "", "")
        self.locked = locked
        if locked:
            self.zh = f"登录失败次数过多，已暂时锁定，请 {retry_after} 秒后再试"
            self.en = f"Too many failed sign-ins: locked, try again in {retry_after} s"
        else:
            self.zh = f"登录尝试过于频繁，请 {retry_after} 秒后再试"
            self.en = f"Too many sign-in attempts, try again in {retry_after} s"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    zh: str
    en: str


class InvalidInput(DomainError):
    """One or more fields are wrong; nothing was written."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.en}" for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, field: str, zh: str, en: str) -> "InvalidInput":
        return cls([FieldProblem(field, zh, en)])


class PasswordChangeRequired(Forbidden):
    """Signed in with an activation or a temporary password: a new password must be chosen before anything else."""

    def __init__(self) -> None:
        super().__init__(
            "请先修改密码：首次登录或使用临时密码登录后，必须先设置新密码",
            "Change your password first: after a first sign-in or a temporary password, a new one must be set",
        )
