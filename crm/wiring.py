"""Every cross-area reaction and every timer handler, connected in one place.

The app factory, the worker's start-up, the launcher (seed, demo) and the test
configuration call `connect_all()`. No module connects anything when it is
imported, so what happens never depends on what happened to be imported.
Dependencies still point down: the lower area announces (a signal), the higher
area's handler is listed here.
"""

from __future__ import annotations

from crm.callbacks import messages as callback_messages
from crm.callbacks import signal_handlers as callback_reactions
from crm.callbacks import timer_handlers as callback_timers
from crm.complaints import events as complaint_events
from crm.complaints import timer_handlers as complaint_timers
from crm.customers import events as customer_events
from crm.customers import timer_handlers as customer_timers
from crm.major import service as major
from crm.major import timer_handlers as major_timers
from crm.notify import events as notify_events
from crm.signals import Handler, Signal
from crm.timers import registry

SIGNAL_HANDLERS: tuple[tuple[Signal, Handler], ...] = (
    # deliveries and service visits → their callbacks (回访)
    (customer_events.sale_recorded, callback_reactions.sale_recorded),
    (customer_events.sale_changed, callback_reactions.sale_changed),
    (customer_events.sale_cancelled, callback_reactions.sale_cancelled),
    (customer_events.visit_recorded, callback_reactions.visit_recorded),
    (customer_events.visit_changed, callback_reactions.visit_changed),
    (customer_events.visit_cancelled, callback_reactions.visit_cancelled),
    # a complaint taken → is it major (重大投诉)? its state changed → the major complaint follows
    (complaint_events.complaint_created, major.on_complaint_created),
    (complaint_events.complaint_state_changed, major.on_complaint_state_changed),
    # a store's complaint resolved → the revisit in the store's callback queue
    (complaint_events.complaint_state_changed, callback_reactions.complaint_state_changed),
    # an SMS callback delivered or given up → recorded on the callback
    (notify_events.delivery_settled, callback_messages.sms_settled),
)

TIMER_HANDLERS: tuple[dict[str, registry.Handler], ...] = (
    callback_timers.HANDLERS,
    complaint_timers.HANDLERS,
    customer_timers.HANDLERS,
    major_timers.HANDLERS,
)


def connect_all() -> None:
    """Connect every signal handler and register every timer handler (again is harmless)."""
    for signal, handler in SIGNAL_HANDLERS:
        signal.connect(handler)
    for handlers in TIMER_HANDLERS:
        registry.register(handlers)
