"""Every phone number a user may read in clear is a click-to-call link (`tel:`); a masked one is plain text."""

from __future__ import annotations

import re

from crm.callbacks.tables import Callback
from crm.customers.tables import Customer
from crm.privacy import vault
from tests.support.callbacks import make_due


async def test_numbers_in_clear_dial_and_masked_numbers_do_not(browser_session, tenant):
    callback_id = await make_due(tenant, name="黄忠")
    customer_id = (await Callback.select(Callback.customer).where(Callback.id == callback_id).first())["customer"]
    mobile = vault.open_rows(await Customer.select(Customer.mobile).where(Customer.id == customer_id).first())["mobile"]

    agent = await browser_session(tenant.usernames["callback_agent@A"])
    queue = (await agent.get("/callbacks")).text
    assert f'<a class="mono tel" href="tel:{mobile}">{mobile}</a>' in queue
    call = (await agent.get(f"/callbacks/{callback_id}")).text
    assert f'href="tel:{mobile}"' in call

    hq = await browser_session(tenant.usernames["hq_viewer"])
    masked = (await hq.get("/callbacks")).text
    assert mobile not in masked and re.search(rf"{mobile[:3]}\*+{mobile[-4:]}", masked)
    assert 'href="tel:' not in masked, "a masked number cannot be dialled"
