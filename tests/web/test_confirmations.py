"""After a form is sent the next page says what happened (`?ok=<what>` → the catalogue's `done.<what>`)."""

from __future__ import annotations

import re
from pathlib import Path

from api.i18n import has
from tests.support.builders import customer_with_car
from tests.support.web import csrf_of

# `?ok=<what>` or `&ok=<what>` in a handler's redirect (not the ones built from a variable).
_ASKED = re.compile(r"[?&]ok=([a-z_]+)(?![{\w])")


def _note(html: str) -> str:
    return html.split('id="ok-note">')[1].split("</p>")[0] if 'id="ok-note"' in html else ""


async def test_the_confirmation_is_shown_in_the_users_language_and_only_for_known_texts(browser_session, tenant):
    agent = await browser_session(tenant.usernames["store_cr_manager@A"])
    assert _note((await agent.get("/?ok=customer_saved")).text) == "客户资料已保存。"
    for made_up in ("nope", "../error.500.title", "customer_saved<script>", ""):
        assert _note((await agent.get("/", params={"ok": made_up})).text) == "", made_up
    await agent.get("/lang/en")
    assert _note((await agent.get("/?ok=customer_saved")).text) == "The profile is saved."


async def test_a_registered_complaint_says_so(browser_session, tenant):
    car = await customer_with_car(tenant, "A", name="冯先生")
    agent = await browser_session(tenant.usernames["store_cr_manager@A"])
    form = await agent.get("/complaint-intake")
    sent = await agent.post("/complaint-intake", data={
        "_csrf_token": csrf_of(form.text), "customer_id": str(car.customer_id), "vehicle_id": str(car.vehicle_id),
        "store_id": str(tenant.store_a), "channel": "hotline_400", "content": "空调不制冷", "urgency": "normal",
    })
    assert sent.status_code in (302, 303), sent.text
    assert _note((await agent.get(sent.headers["location"])).text) == "投诉已登记。"


def test_every_confirmation_a_handler_asks_for_is_in_the_catalogue():
    from crm.customers.corrections import ACTIONS

    api = Path(__file__).resolve().parents[2] / "api"
    wanted = {what for path in api.rglob("*.py") for what in _ASKED.findall(path.read_text(encoding="utf-8"))}
    wanted |= {f"correction_{step}" for step in ACTIONS} | {"group_suspended", "group_reactivated"}
    wanted |= {"report_filed", "report_saved"}
    assert {"complaint_registered", "customer_saved"} <= wanted
    assert sorted(what for what in wanted if not has(f"done.{what}")) == []
