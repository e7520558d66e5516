"""SMS-channel callbacks (reminders, greetings): the rule's text, sent to the customer over the notification SMS channel.

The send happens in the transaction of the firing timer. A transient gateway
error raises, which rolls the callback back to `scheduled` and lets the timer
mechanism retry with backoff; a permanent one (no gateway configured, no mobile
number, a 4xx answer) ends the callback `unreachable` with the reason recorded.
"""

from __future__ import annotations

from crm import clock
from crm.callbacks.context import call_context
from crm.callbacks.rules import effective_rules
from crm.callbacks.scripts import render_script
from crm.callbacks.tables import Callback, CallbackAttempt
from crm.notify.channels import ChannelError, Message, endpoint_for, send


async def send_callback_sms(cb: dict) -> str:
    """Send one SMS callback and record it; returns the callback's new state."""
    context = await call_context(cb, agent_name="")
    customer = context.customer
    rule = (await effective_rules(group_id=cb["group"], store_id=cb["store"]))[cb["kind"]]
    text = render_script(rule.script, context.values)
    now = clock.now()
    try:
        if not customer.get("mobile"):
            raise ChannelError("the customer has no mobile number", permanent=True)
        endpoint = await endpoint_for(cb["group"], "sms")
        await send("sms", endpoint, Message(title="", body=text, link="", email="", phone=customer["mobile"],
                                            name=customer.get("name", "")))
    except ChannelError as exc:
        if not exc.permanent:
            raise
        await _finish(cb, state="unreachable", outcome="failed", comment=f"{text}\n[未发送 / not sent: {exc}]",
                      now=now)
        return "unreachable"
    await _finish(cb, state="done", outcome="sent", comment=text, now=now)
    return "done"


async def _finish(cb: dict, *, state: str, outcome: str, comment: str, now) -> None:
    await CallbackAttempt.insert(CallbackAttempt(
        group=cb["group"], store=cb["store"], callback=cb["id"], attempt_no=cb["attempts"] + 1, outcome=outcome,
        agent=None, comment=comment, at=now))
    await Callback.update({  # tenant: the callback its timer fired (mark_due checked group and store)
        Callback.state: state, Callback.outcome: outcome, Callback.attempts: cb["attempts"] + 1,
        Callback.first_attempt_at: cb["first_attempt_at"] or now, Callback.completed_at: now,
    }).where(Callback.id == cb["id"], Callback.state == "scheduled")
