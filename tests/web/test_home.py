"""工作台 per role: what is overdue, due today and waiting for me, and the team's month (HQ: the group's)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.major.rules import MajorReason
from crm.work import my_work
from tests.support.builders import complaint, customer_with_car, major_complaint
from tests.support.callbacks import make_due


def _section(html: str, key: str) -> str:
    """The rows of one part of the home page's work list ("" when the part is not shown)."""
    start = html.find(f'id="work-{key}"')
    return "" if start < 0 else html[start:html.find("</table>", start)]


async def test_store_manager_sees_the_complaint_to_accept_with_its_countdown(browser_session, tenant):
    cid = await complaint(tenant, await customer_with_car(tenant, "A", name="周小芳"), store="A")
    page = (await (await browser_session(tenant.usernames["store_cr_manager@A"])).get("/")).text
    mine = _section(page, "today") + _section(page, "waiting")
    assert f'href="/complaints/{cid}"' in mine and "门店受理" in mine and "周小芳" in mine
    assert 'class="countdown' in mine
    assert 'class="tiles"' not in page  # the menu is not repeated as tiles

    for other in ("store_cr_manager@B", "department_head@A", "staff@A"):
        page = (await (await browser_session(tenant.usernames[other])).get("/")).text
        assert f'href="/complaints/{cid}"' not in page, other


async def test_a_missed_deadline_moves_the_complaint_to_overdue(tenant):
    cid = await complaint(tenant, await customer_with_car(tenant, "A"), store="A")
    actor = await tenant.scope("store_cr_manager@A")
    with time_machine.travel(clock.now() + timedelta(days=3), tick=False):
        work = await my_work(actor=actor)
    assert [i.href for i in work.overdue] == [f"/complaints/{cid}"]
    assert not work.today and not work.waiting


async def test_callback_agent_sees_the_calls_due(browser_session, tenant):
    callback_id = await make_due(tenant, name="林黛玉")
    page = (await (await browser_session(tenant.usernames["callback_agent@A"])).get("/")).text
    assert f'href="/callbacks/{callback_id}"' in page and "林先生" in page  # the customer as the agent addresses them
    assert 'id="team-figures"' not in page  # figures are for managers
    other = (await (await browser_session(tenant.usernames["callback_agent@B"])).get("/")).text
    assert f'href="/callbacks/{callback_id}"' not in other


async def test_store_gm_has_the_major_report_to_file_and_the_store_month(browser_session, tenant):
    cid = await complaint(tenant, await customer_with_car(tenant, "A", name="贾政"), store="A")
    major_id = await major_complaint(tenant, cid, MajorReason.NEGATIVE_MEDIA)
    page = (await (await browser_session(tenant.usernames["store_gm@A"])).get("/")).text
    assert f'href="/major/{major_id}"' in page and "提交重大投诉报告" in page
    assert 'id="team-figures"' in page and "本店本月数据" in page and "2026-12" in page
    assert "受理及时率" in page and "当前逾期事项" in page


async def test_hq_sees_the_group_month_with_a_link_to_the_dashboard(browser_session, tenant):
    page = (await (await browser_session(tenant.usernames["hq_viewer"])).get("/")).text
    assert "集团本月数据" in page and 'id="to-dashboard"' in page and 'href="/dashboard' in page
    assert 'id="work-none"' in page  # an HQ viewer acts on nothing


async def test_english_home(browser_session, tenant):
    client = await browser_session(tenant.usernames["store_gm@A"])
    await client.get("/lang/en")
    page = (await client.get("/")).text
    assert "My work" in page and "My store this month" in page
