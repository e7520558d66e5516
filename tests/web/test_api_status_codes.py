"""Status codes by meaning: an API POST answers 201 only when it creates something (a row, a key, an
import); an action on what exists (sign in, suspend, file, forward, acknowledge) answers 200."""

from __future__ import annotations

from api.app import create_app

CREATES = {
    "/api/v1/customers", "/api/v1/vehicles", "/api/v1/sales", "/api/v1/visits", "/api/v1/customers/import",
    "/api/v1/complaints", "/api/v1/complaints/violations", "/api/v1/complaints/{complaint_id:int}/compensations",
    "/api/v1/complaints/{complaint_id:int}/attachments",
    "/api/v1/complaints/{complaint_id:int}/major", "/api/v1/major/{major_id:int}/crisis-meetings",
    "/api/v1/dms/keys", "/api/v1/dms/keys/{key_id:str}/rotate",  # rotating issues a new key
    "/api/v1/mystery-shopper/audits", "/api/v1/mystery-shopper/audits/import", "/api/v1/manufacturer-scores/import",
    "/api/v1/platform/groups", "/api/v1/brand-divisions", "/api/v1/regions", "/api/v1/stores",
    "/api/v1/users", "/api/v1/users/import",
}


def test_only_posts_that_create_answer_201():
    answering_201 = {
        route.path
        for route in create_app().routes
        for handler in getattr(route, "route_handlers", [])
        if route.path.startswith("/api/") and "POST" in handler.http_methods and handler.status_code == 201
    }
    assert answering_201 == CREATES


async def test_actions_that_create_nothing_answer_200(client, tenant):
    token = await client.post("/api/v1/auth/token", json=tenant.login("store_gm@A"))
    assert token.status_code == 200 and token.json()["access_token"]
