"""DMS 对接密钥: the keys each store's DMS signs its webhook pushes with — create, rotate, revoke; a new secret
is shown once, on the answer that made it. Saved by `crm.callbacks.dms`."""

from __future__ import annotations

from litestar import get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.settings.menu import settings_context
from api.web.forms import optional_int, store_choices
from crm.callbacks import dms
from tenants.errors import InvalidInput, NotFound
from tenants.scope import Scope


@get("/settings/dms-keys", guards=[requires(*dms.KEY_MANAGERS)], include_in_schema=False)
async def keys_page(actor: Scope, store: str = "") -> Template:
    return await _page(actor, await _store(actor, store))


@post("/settings/dms-keys", guards=[requires(*dms.KEY_MANAGERS)], include_in_schema=False)
async def key_issue(actor: Scope, store: str = "") -> Template:
    store_id = optional_int(store)
    if store_id is None:
        raise InvalidInput.one("store", "请选择门店", "Choose a store")
    issued = await dms.issue_key(actor=actor, store_id=store_id)
    return await _page(actor, store_id, issued=issued, status_code=201)


@post("/settings/dms-keys/{key_id:str}/rotate", guards=[requires(*dms.KEY_MANAGERS)], include_in_schema=False)
async def key_rotate(actor: Scope, key_id: str, store: str = "") -> Template:
    try:
        issued = await dms.rotate_key(actor=actor, key_id=key_id)
    except InvalidInput as problem:
        return await _page(actor, await _store(actor, store), errors=problem.problems, status_code=400)
    return await _page(actor, issued.store_id, issued=issued, status_code=201)


@post("/settings/dms-keys/{key_id:str}/revoke", guards=[requires(*dms.KEY_MANAGERS)], include_in_schema=False)
async def key_revoke(actor: Scope, key_id: str, store: str = "") -> Redirect:
    await dms.revoke_key(actor=actor, key_id=key_id)
    store_id = optional_int(store)
    return Redirect(path=f"/settings/dms-keys?{f'store={store_id}&' if store_id else ''}saved=1",
                    status_code=HTTP_303_SEE_OTHER)


ROUTES = [keys_page, key_issue, key_rotate, key_revoke]


async def _store(actor: Scope, raw: str) -> int:
    """The store asked for (404 when the caller cannot see it), else the caller's first store."""
    store_id = optional_int(raw)
    if store_id is not None:
        actor.require_store(store_id)
        return store_id
    stores = await store_choices(actor)
    if not stores:
        raise NotFound("store")
    return stores[0]["id"]


async def _page(actor: Scope, store_id: int, *, issued: dms.IssuedKey | None = None, errors: list | None = None,
                status_code: int = 200) -> Template:
    return Template("settings/dms_keys.html", status_code=status_code, headers={"Cache-Control": "no-store"}, context={
        **settings_context(actor, "dms_keys"), "errors": errors or [], "store_id": store_id, "stores": await store_choices(actor),
        "keys": await dms.list_keys(actor=actor, store_id=store_id), "issued": issued,
    })
