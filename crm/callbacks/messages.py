"""SMS-channel callbacks (reminders, greetings): the rule's text, sent to the customer through the notifications.

When the timer fires, the text is handed to `crm.notify` with the key
`callback:<id>:sms` — recorded once however often the timer fires — and the
callback waits in `sending`. The notification worker sends it with its retries
and backoff, outside any callback transaction; when it is delivered or fails for
good, `delivery_settled` brings the result back here and the callback ends `done`
(sent) or `unreachable` (failed, with the reason), once.
"""

from __future__ import annotations

from crm import clock
from crm.callbacks.context import call_context
from crm.callbacks.rules import effective_rules
from crm.callbacks.scripts import render_script
from crm.callbacks.tables import Callback, CallbackAttempt
from crm.notify.service import message_customer
from tenants.scope import Scope

SMS_KIND = "callback.sms"
SUBJECT = "callback"


def idempotency_key(callback_id: int) -> str:
    return f"callback:{callback_id}:sms"


async def send_callback_sms(cb: dict) -> str:
    """Hand one SMS callback to the notifications (inside the firing timer's transaction); returns its new state."""
    context = await call_context(cb, agent_name="")
    rule = (await effective_rules(group_id=cb["group"], store_id=cb["store"]))[cb["kind"]]
    text = render_script(rule.script, context.values)
    mobile = context.customer.get("mobile") or ""
    if not mobile:
        await _finish(cb, from_state="scheduled", state="unreachable", outcome="failed",
                      comment=f"{text}\n[未发送 / not sent: the customer has no mobile number]")
        return "unreachable"
    await message_customer(
        group_id=cb["group"], store_id=cb["store"], mobile=mobile, kind=SMS_KIND, label_zh=rule.label_zh,
        label_en=rule.label_en, text=text, idempotency_key=idempotency_key(cb["id"]), subject_type=SUBJECT,
        subject_id=cb["id"],
    )
    await Scope.of(cb).update(Callback, {Callback.state: "sending"}).where(Callback.id == cb["id"], Callback.state == "scheduled")
    return "sending"


async def sms_settled(*, group_id: int, store_id: int | None, subject_type: str, subject_id: int | None, status: str,
                      error: str, text: str, **_: object) -> None:
    """The notification worker delivered the SMS, or gave up on it: record that on the callback, once."""
    if subject_type != SUBJECT or subject_id is None:
        return
    cb = await Scope.system(group_id, store_id).select(Callback).where(
        Callback.id == subject_id, Callback.state == "sending"
    ).first()
    if cb is None:  # cancelled meanwhile, or already recorded
        return
    if status == "delivered":
        await _finish(cb, from_state="sending", state="done", outcome="sent", comment=text)
    else:
        await _finish(cb, from_state="sending", state="unreachable", outcome="failed",
                      comment=f"{text}\n[未发送 / not sent: {error}]")


async def _finish(cb: dict, *, from_state: str, state: str, outcome: str, comment: str) -> None:
    now = clock.now()
    changed = await Scope.of(cb).update(Callback, {
        Callback.state: state, Callback.outcome: outcome, Callback.attempts: cb["attempts"] + 1,
        Callback.first_attempt_at: cb["first_attempt_at"] or now, Callback.completed_at: now,
    }).where(Callback.id == cb["id"], Callback.state == from_state).returning(Callback.id)
    if changed:
        await CallbackAttempt.insert(CallbackAttempt(
            group=cb["group"], store=cb["store"], callback=cb["id"], attempt_no=cb["attempts"] + 1, outcome=outcome,
            agent=None, comment=comment, at=now))
