"""Configuration, read once from the environment, with safe defaults for the embedded mode."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    host: str = "127.0.0.1"
    port: int = 8000
    default_timezone: str = "Asia/Shanghai"
    debug: bool = False
    secure_cookies: bool = False
    token_ttl_hours: int = 12
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = Path(os.environ.get("DEALERDESK_VAR", "var")).resolve()
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'dealerdesk.sqlite'}",
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=os.environ.get("SECRET_KEY") or _local_secret(var_dir),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        default_timezone=os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        debug=os.environ.get("DEBUG", "") == "1",
        secure_cookies=os.environ.get("SECURE_COOKIES", "") == "1",
        token_ttl_hours=int(os.environ.get("TOKEN_TTL_HOURS", "12")),
    )


def _local_secret(var_dir: Path) -> str:
    """Embedded mode keeps a random secret in var/ so sessions survive a restart; production sets SECRET_KEY."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
