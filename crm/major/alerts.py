"""Raising, re-sending and settling major-complaint alerts (预警).

An alert is raised once per level (level 0 is the immediate alert on marking);
each recipient must acknowledge it. While someone has not, a `major.renotify`
timer sends it to them again every `renotify_seconds`. Everything here runs
inside the caller's transaction: the alert rows, the notifications (recorded
once per idempotency key) and the next timer commit together, so a level that
fires twice — job and sweeper racing, a worker killed mid-way — alerts once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from piccolo.query.mixins import OnConflictAction

from crm import clock
from crm.major import board_events
from crm.major.policy import Level, Policy, decode_policy
from crm.major.rules import Condition
from crm.major.tables import MajorAlert, MajorAlertRecipient, MajorComplaint
from crm.notify.service import notify_users, users_with_roles
from crm.timers.service import cancel_timers, schedule_timer
from tenants.roles import Role
from tenants.scope import Scope

RENOTIFY = "major.renotify"
ALERT_SUBJECT = "major_alert"


async def raise_alert(
    *, major: dict, level: int, roles: list[Role], channels: list[str], condition: str,
    title_zh: str, title_en: str, body_zh: str, body_en: str,
) -> int | None:
    """Raise the alert of one level for a major complaint, once. Returns its id (None if it already existed)."""
    now = clock.now()
    user_ids = await recipients(group_id=major["group"], store_id=major["store"], roles=roles)
    rows = await MajorAlert.insert(
        MajorAlert(
            group=major["group"], store=major["store"], major=major["id"], level=level, condition=condition,
            raised_at=now, rounds=1, last_sent_at=now, settled_at=None if user_ids else now,
        )
    ).on_conflict(action=OnConflictAction.do_nothing).returning(MajorAlert.id)
    if not rows:
        return None  # (major, level) is unique: this level was reached before
    alert_id = rows[0]["id"]
    if user_ids:
        await MajorAlertRecipient.insert(
            *[MajorAlertRecipient(group=major["group"], store=major["store"], alert=alert_id, user=u)
              for u in user_ids]
        )
        await _send(major=major, alert_id=alert_id, round_no=1, user_ids=user_ids, channels=channels,
                    title_zh=title_zh, title_en=title_en, body_zh=body_zh, body_en=body_en)
        await _schedule_renotify(major=major, alert_id=alert_id, after=_policy(major).renotify_seconds)
    await board_events.changed(group_id=major["group"], store_id=major["store"], major_id=major["id"])
    return alert_id


async def renotify(*, alert_id: int, group_id: int) -> int:
    """Send an alert again to whoever has not acknowledged it; returns how many were reminded."""
    in_group = Scope.system(group_id)  # the timer's group: a re-route moves the store
    alert = await in_group.select(MajorAlert).where(MajorAlert.id == alert_id).first()
    if alert is None or alert["settled_at"] is not None:
        return 0
    major = await in_group.select(MajorComplaint).where(MajorComplaint.id == alert["major"]).first()
    if major is None or major["closed_at"] is not None:
        await settle(group_id=group_id, alert_id=alert_id)
        return 0
    waiting = [
        r["user"] for r in await in_group.select(MajorAlertRecipient, MajorAlertRecipient.user).where(
            MajorAlertRecipient.alert == alert_id, MajorAlertRecipient.acknowledged_at.is_null()
        )
    ]
    if not waiting:
        await settle(group_id=group_id, alert_id=alert_id)
        return 0
    round_no = alert["rounds"] + 1
    policy = _policy(major)
    level = _level(policy, alert["level"])
    channels = policy.alert_channels if level is None else level.channels
    await in_group.update(MajorAlert, {MajorAlert.rounds: round_no, MajorAlert.last_sent_at: clock.now()}).where(
        MajorAlert.id == alert_id
    )
    title_zh, title_en = await _reminder_titles(major, alert["level"], round_no)
    await _send(major=major, alert_id=alert_id, round_no=round_no, user_ids=waiting, channels=channels,
                title_zh=title_zh, title_en=title_en,
                body_zh="此预警尚未确认，请登录系统确认。", body_en="This alert is not acknowledged yet; please acknowledge it.")
    await _schedule_renotify(major=major, alert_id=alert_id, after=policy.renotify_seconds)
    return len(waiting)


async def acknowledge(*, group_id: int, alert_id: int, user_id: int) -> bool:
    """Record one recipient's acknowledgement; True when it was new. Settles the alert when everyone has."""
    in_group = Scope.system(group_id)
    rows = await in_group.update(MajorAlertRecipient, {MajorAlertRecipient.acknowledged_at: clock.now()}).where(
        MajorAlertRecipient.alert == alert_id,
        MajorAlertRecipient.user == user_id,
        MajorAlertRecipient.acknowledged_at.is_null(),
    ).returning(MajorAlertRecipient.id)
    if not rows:
        return False
    waiting = await in_group.exists(MajorAlertRecipient).where(
        MajorAlertRecipient.alert == alert_id, MajorAlertRecipient.acknowledged_at.is_null()
    )
    if not waiting:
        await settle(group_id=group_id, alert_id=alert_id)
    return True


async def settle(*, group_id: int, alert_id: int) -> None:
    """No more reminders for this alert."""
    await Scope.system(group_id).update(MajorAlert, {MajorAlert.settled_at: clock.now()}).where(
        MajorAlert.id == alert_id, MajorAlert.settled_at.is_null()
    )
    await cancel_timers(subject_type=ALERT_SUBJECT, subject_id=alert_id, kinds=[RENOTIFY])


async def settle_all(*, group_id: int, major_id: int) -> None:
    """The complaint is closed: stop every reminder of its alerts."""
    rows = await Scope.system(group_id).select(MajorAlert, MajorAlert.id).where(
        MajorAlert.major == major_id, MajorAlert.settled_at.is_null()
    )
    for row in rows:
        await settle(group_id=group_id, alert_id=row["id"])


async def recipients(*, group_id: int, store_id: int, roles: list[Role]) -> list[int]:
    """Active users holding `roles` for this store (as `notify_roles` addresses them). Without a
    brand-division manager for the store, the management department (集团管理员) stands in."""
    found = set(await users_with_roles(group_id=group_id, roles=roles, store_id=store_id))
    if Role.BRAND_MANAGER in roles:
        division = await users_with_roles(group_id=group_id, roles=[Role.BRAND_MANAGER], store_id=store_id)
        if not division:
            found |= set(await users_with_roles(group_id=group_id, roles=[Role.GROUP_ADMIN], store_id=store_id))
    return sorted(found)


async def notify_people(
    *, major: dict, user_ids: list[int], kind: str, key: str, title_zh: str, title_en: str,
    body_zh: str = "", body_en: str = "", channels: list[str] | None = None,
) -> int:
    """A one-off notification about a major complaint (report filed, report forwarded)."""
    if not user_ids:
        return 0
    return await notify_users(**_notify_args(
        major=major, user_ids=user_ids, kind=kind, key=key, channels=channels or [],
        title_zh=title_zh, title_en=title_en, body_zh=body_zh, body_en=body_en,
    ))


def level_titles(*, level: int, level_cfg: Level | None, complaint_label: str) -> tuple[str, str]:
    if level == 0:
        return (f"重大投诉预警：{complaint_label}，请立即召集危机处理小组",
                f"Major complaint: {complaint_label} — convene the crisis team now")
    assert level_cfg is not None
    zh = level_cfg.label_zh or f"重大投诉升级（第{level}级，{level_cfg.condition.title_zh}）"
    en = level_cfg.label_en or f"Major complaint escalated (level {level}, {level_cfg.condition.title_en})"
    return f"{zh}:{complaint_label}", f"{en}: {complaint_label}"


def level_due(major: dict, level_cfg: Level) -> datetime:
    return major["marked_at"] + timedelta(seconds=level_cfg.delay_seconds)


def condition_holds(major: dict, condition: Condition) -> bool:
    if major["closed_at"] is not None:
        return False
    if condition == Condition.REPORT_MISSING:
        return major["report_status"] == "missing"
    return major["resolved_at"] is None


async def _send(
    *, major: dict, alert_id: int, round_no: int, user_ids: list[int], channels: list[str],
    title_zh: str, title_en: str, body_zh: str, body_en: str,
) -> int:
    return await notify_users(**_notify_args(
        major=major, user_ids=user_ids, kind="major.alert", key=f"major-alert:{alert_id}:{round_no}",
        channels=channels, title_zh=title_zh, title_en=title_en, body_zh=body_zh, body_en=body_en,
    ))


def _notify_args(
    *, major: dict, user_ids: list[int], kind: str, key: str, channels: list[str],
    title_zh: str, title_en: str, body_zh: str, body_en: str,
) -> dict:
    args = dict(
        group_id=major["group"], store_id=major["store"], user_ids=user_ids, kind=kind,
        title_zh=title_zh, title_en=title_en, body_zh=body_zh, body_en=body_en,
        link=f"/major/{major['id']}", idempotency_key=key,
    )
    if channels:
        args["extra_channels"] = channels
    return args


async def _schedule_renotify(*, major: dict, alert_id: int, after: int) -> None:
    await schedule_timer(
        kind=RENOTIFY, due_at=clock.now() + timedelta(seconds=after), group_id=major["group"],
        store_id=major["store"], subject_type=ALERT_SUBJECT, subject_id=alert_id,
    )


async def _reminder_titles(major: dict, level: int, round_no: int) -> tuple[str, str]:
    from crm.major.service import complaint_label

    label = await complaint_label(major["complaint"], major["group"])
    return (f"【第{round_no}次提醒】重大投诉预警待确认：{label}",
            f"[Reminder {round_no}] Major-complaint alert awaiting acknowledgement: {label}")


def _policy(major: dict) -> Policy:
    return decode_policy(major["policy"])


def _level(policy: Policy, level: int) -> Level | None:
    return policy.levels[level - 1] if 1 <= level <= len(policy.levels) else None

