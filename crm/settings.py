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
    # Where users reach the web UI: links in messages that leave the system (e-mail, SMS, robots) start here.
    public_base_url: str = ""
    default_timezone: str = "Asia/Shanghai"
    debug: bool = False
    secure_cookies: bool = False
    token_ttl_hours: int = 12
    scope_cache_seconds: float = 5.0
    # Timers: only timers due within the horizon are held in Redis; the sweeper runs every `timer_sweep_seconds`.
    timer_horizon_seconds: int = 7200
    timer_sweep_seconds: int = 30
    # A worker serving only some dealer groups (TIMER_GROUPS=3,7): its sweeper and promoter look at their timers only.
    timer_groups: tuple[int, ...] | None = None
    # Notification channels (a group's own settings in `notify_channel_config` win over these).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = "dealerdesk@localhost"
    smtp_starttls: bool = False
    # Files attached to e-mails (report PDFs) up to this size; a larger one is sent as its download link only.
    email_attachment_max_bytes: int = 10 * 1024 * 1024
    wecom_webhook_url: str = ""
    dingtalk_webhook_url: str = ""
    dingtalk_secret: str = ""
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    # Operators' Prometheus scrapes /metrics with this bearer token; unset, /metrics is not served.
    metrics_token: str = ""
    # Complaint attachments (photos, documents, call recordings): where the files live, and how large they may be.
    attachment_dir: Path | None = None  # default: var_dir / "attachments"
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachment_complaint_max_bytes: int = 200 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def sms_to_log(self) -> bool:
        """Embedded/demo mode (SQLite) without SMS_GATEWAY_URL: SMS are written to the log and count as delivered.

        Production (PostgreSQL) never does this: there an unconfigured gateway is a permanent failure.
        """
        return self.is_sqlite and not self.sms_gateway_url


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
        public_base_url=_public_base_url(),
        default_timezone=os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        debug=os.environ.get("DEBUG", "") == "1",
        secure_cookies=os.environ.get("SECURE_COOKIES", "") == "1",
        token_ttl_hours=int(os.environ.get("TOKEN_TTL_HOURS", "12")),
        scope_cache_seconds=float(os.environ.get("SCOPE_CACHE_SECONDS", "5")),
        timer_horizon_seconds=int(os.environ.get("TIMER_HORIZON_SECONDS", "7200")),
        timer_sweep_seconds=int(os.environ.get("TIMER_SWEEP_SECONDS", "30")),
        timer_groups=_id_list(os.environ.get("TIMER_GROUPS", "")),
        smtp_host=os.environ.get("SMTP_HOST", ""),
        smtp_port=int(os.environ.get("SMTP_PORT", "25")),
        smtp_username=os.environ.get("SMTP_USERNAME", ""),
        smtp_password=os.environ.get("SMTP_PASSWORD", ""),
        smtp_sender=os.environ.get("SMTP_SENDER", "dealerdesk@localhost"),
        smtp_starttls=os.environ.get("SMTP_STARTTLS", "") == "1",
        email_attachment_max_bytes=int(os.environ.get("EMAIL_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))),
        wecom_webhook_url=os.environ.get("WECOM_WEBHOOK_URL", ""),
        dingtalk_webhook_url=os.environ.get("DINGTALK_WEBHOOK_URL", ""),
        dingtalk_secret=os.environ.get("DINGTALK_SECRET", ""),
        sms_gateway_url=os.environ.get("SMS_GATEWAY_URL", ""),
        sms_gateway_token=os.environ.get("SMS_GATEWAY_TOKEN", ""),
        metrics_token=os.environ.get("METRICS_TOKEN", ""),
        attachment_dir=Path(os.environ.get("ATTACHMENT_DIR") or var_dir / "attachments").resolve(),
        attachment_max_bytes=int(os.environ.get("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024))),
        attachment_complaint_max_bytes=int(os.environ.get("ATTACHMENT_COMPLAINT_MAX_BYTES", str(200 * 1024 * 1024))),
    )


def _local_secret(var_dir: Path) -> str:
    """Embedded mode keeps a random secret in var/ so sessions survive a restart; production sets SECRET_KEY."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _public_base_url() -> str:
    """PUBLIC_BASE_URL, else the address the embedded server listens on."""
    configured = os.environ.get("PUBLIC_BASE_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    return f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"


def _id_list(text: str) -> tuple[int, ...] | None:
    """Ids separated by commas ("3,7"); empty means no limit (None)."""
    ids = tuple(int(part) for part in text.split(",") if part.strip())
    return ids or None
