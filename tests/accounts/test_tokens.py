"""API tokens listed and revoked by their owner and by the group admin (never shown again, audited)."""

from __future__ import annotations

from tenants.tables import AuditEntry


async def _new_token(client, tenant, who: str) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/token", json=tenant.login(who))
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_owner_lists_own_tokens_without_the_token_and_revokes_one(client, tenant):
    first = await _new_token(client, tenant, "store_gm@A")
    second = await _new_token(client, tenant, "store_gm@A")
    listed = await client.get("/api/v1/account/tokens", headers=first)
    assert listed.status_code == 200
    tokens = listed.json()["items"]
    assert listed.json()["total"] == 2 and set(tokens[0]) == {"id", "created_at", "expires_at"}
    oldest = (await client.get("/api/v1/account/tokens", params={"sort": "created", "page_size": 1}, headers=first)).json()
    assert (oldest["items"][0]["id"], oldest["pages"]) == (tokens[1]["id"], 2)
    assert second["Authorization"][7:] not in listed.text and first["Authorization"][7:] not in listed.text
    other = await _new_token(client, tenant, "staff@A")
    assert (await client.get("/api/v1/account/tokens", headers=other)).json()["items"][0]["id"] not in {t["id"] for t in tokens}

    revoked = tokens[0]["id"]  # the newest: the second token
    assert (await client.delete(f"/api/v1/account/tokens/{revoked}", headers=first)).status_code == 204
    assert (await client.get("/api/v1/me", headers=second)).status_code == 401
    assert (await client.get("/api/v1/me", headers=first)).status_code == 200
    assert (await client.delete(f"/api/v1/account/tokens/{revoked}", headers=first)).status_code == 404
    assert await AuditEntry.exists().where(AuditEntry.action == "user.token_revoke",
                                           AuditEntry.target_id == str(tenant.users["store_gm@A"]))


async def test_someone_elses_token_is_404_to_its_id(client, tenant):
    staff = await _new_token(client, tenant, "staff@A")
    staff_token = (await client.get("/api/v1/account/tokens", headers=staff)).json()["items"][0]["id"]
    gm = await _new_token(client, tenant, "store_gm@A")
    assert (await client.delete(f"/api/v1/account/tokens/{staff_token}", headers=gm)).status_code == 404
    assert (await client.get("/api/v1/me", headers=staff)).status_code == 200


async def test_group_admin_lists_and_revokes_a_users_token(client, tenant):
    staff = await _new_token(client, tenant, "staff@A")
    admin = await tenant.headers("group_admin")
    user_id = tenant.users["staff@A"]
    listed = await client.get(f"/api/v1/users/{user_id}/tokens", headers=admin)
    assert listed.status_code == 200 and listed.json()["total"] == 1
    token_id = listed.json()["items"][0]["id"]
    assert (await client.delete(f"/api/v1/users/{user_id}/tokens/{token_id}", headers=admin)).status_code == 204
    assert (await client.get("/api/v1/me", headers=staff)).status_code == 401
    entry = await AuditEntry.select().where(AuditEntry.action == "user.token_revoke",
                                            AuditEntry.target_id == str(user_id)).first()
    assert entry["actor"] == tenant.users["group_admin"] and entry["target_id"] == str(user_id)
    assert entry["group"] == tenant.group_id
    # a token of another user under this user's path: 404
    gm = await _new_token(client, tenant, "store_gm@A")
    gm_token = (await client.get("/api/v1/account/tokens", headers=gm)).json()["items"][0]["id"]
    assert (await client.delete(f"/api/v1/users/{user_id}/tokens/{gm_token}", headers=admin)).status_code == 404


async def test_only_the_group_admin_manages_others_tokens(client, tenant):
    await _new_token(client, tenant, "staff@A")
    gm = await tenant.headers("store_gm@A")
    assert (await client.get(f"/api/v1/users/{tenant.users['staff@A']}/tokens", headers=gm)).status_code == 403


async def test_other_groups_users_tokens_are_404(client, tenant, other_tenant):
    staff = await _new_token(client, tenant, "staff@A")
    token_id = (await client.get("/api/v1/account/tokens", headers=staff)).json()["items"][0]["id"]
    foreign_admin = await other_tenant.headers("group_admin")
    user_id = tenant.users["staff@A"]
    assert (await client.get(f"/api/v1/users/{user_id}/tokens", headers=foreign_admin)).status_code == 404
    assert (await client.delete(f"/api/v1/users/{user_id}/tokens/{token_id}",
                                headers=foreign_admin)).status_code == 404
    assert (await client.delete(f"/api/v1/account/tokens/{token_id}", headers=foreign_admin)).status_code == 404
    assert (await client.get("/api/v1/me", headers=staff)).status_code == 200
