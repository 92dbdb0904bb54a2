"""Staff authentication: password login, access JWTs, rotating refresh tokens, roles,
API keys and the platform superadmin."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from frontline.auth.tokens import AccessClaims, TokenCodec
from frontline.kit.crypto import hash_token
from frontline.kit.repository import TenantScope
from frontline.models import RefreshToken, Role, User
from frontline.tenants import service as tenants
from tests.conftest import TEST_SECRET, Factory, TenantFixture


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    return error


async def add_staff(
    factory: Factory, t: TenantFixture, role: Role, *, superadmin: bool = False
) -> dict[str, str]:
    """A new staff member of ``t`` with ``role``; returns their login tokens."""
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@{t.slug}.example.com"
    async with factory.services.db.transaction() as session:
        await tenants.add_member(
            session,
            TenantScope(t.id),
            email=email,
            password="another good password",
            role=role,
            is_superadmin=superadmin,
        )
    data = await factory.login(email, "another good password")
    return {"access": data["access_token"], "refresh": data["refresh_token"]}


# --- login -------------------------------------------------------------------------------


async def test_login_returns_access_jwt_and_refresh_token(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/auth/login", json={"email": t.owner_email, "password": t.owner_password}
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["token_type"] == "bearer"
    assert data["tenant_id"] == str(t.id)
    assert data["role"] == "owner"
    assert data["expires_in"] == factory.services.settings.access_token_ttl_seconds
    assert data["access_token"].count(".") == 2  # a JWT
    assert data["refresh_token"].startswith("flr_")
    claims = factory.services.tokens.verify(data["access_token"])
    assert claims.user_id == t.owner_id and claims.tenant_id == t.id and claims.role == "owner"
    async with factory.services.db.transaction() as s:
        user = (await s.execute(select(User).where(User.email == t.owner_email))).scalar_one()
        assert user.password_hash.startswith("$argon2id$")
        stored = (
            (await s.execute(select(RefreshToken).where(RefreshToken.user_id == user.id)))
            .scalars()
            .all()
        )
    # only a hash of the refresh token is stored
    assert hash_token(data["refresh_token"]) in [row.token_hash for row in stored]


async def test_login_email_is_case_insensitive(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/auth/login", json={"email": t.owner_email.upper(), "password": t.owner_password}
    )
    assert r.status_code == 200, r.text


async def test_wrong_password_and_unknown_email_are_401_with_the_same_message(
    factory: Factory,
) -> None:
    t = await factory.tenant()
    wrong = await factory.client.post(
        "/api/v1/auth/login", json={"email": t.owner_email, "password": "not the password"}
    )
    unknown = await factory.client.post(
        "/api/v1/auth/login",
        json={"email": "nobody@nowhere.example.com", "password": t.owner_password},
    )
    e1, e2 = assert_error(wrong, 401), assert_error(unknown, 401)
    assert e1 == e2  # no user enumeration
    assert "password" in e1["message"]
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in wrong.text


async def test_login_to_a_tenant_of_which_one_is_not_a_member_is_401(factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/auth/login",
        json={"email": a.owner_email, "password": a.owner_password, "tenant_id": str(b.id)},
    )
    assert_error(r, 401)


async def test_login_body_is_validated(factory: Factory) -> None:
    r = await factory.client.post("/api/v1/auth/login", json={"email": "x@example.com"})
    error = assert_error(r, 422)
    assert any(f["loc"][-1] == "password" for f in error["fields"])


# --- me ----------------------------------------------------------------------------------


async def test_me(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.get("/api/v1/me", headers=t.operator)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["user_id"] == str(t.operator_id)
    assert me["email"] == t.operator_email
    assert me["tenant_id"] == str(t.id)
    assert me["role"] == "operator"
    assert me["is_superadmin"] is False
    assert me["memberships"] == [
        {"tenant_id": str(t.id), "tenant_name": f"Tenant {t.slug}", "role": "operator"}
    ]


async def test_me_without_token_is_401(factory: Factory) -> None:
    r = await factory.client.get("/api/v1/me")
    assert_error(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    r = await factory.client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(r, 401)


# --- access tokens -----------------------------------------------------------------------


async def test_expired_access_token_is_401(factory: Factory) -> None:
    t = await factory.tenant()
    expired = TokenCodec(TEST_SECRET, -120).issue(AccessClaims(t.owner_id, t.id, "owner", False))
    error = assert_error(await factory.client.get("/api/v1/me", headers=bearer(expired)), 401)
    assert "expired" in error["message"]


async def test_garbage_and_forged_access_tokens_are_401(factory: Factory) -> None:
    t = await factory.tenant()
    forged = TokenCodec("another-secret-key-0123456789abcdef0123", 600).issue(
        AccessClaims(t.owner_id, t.id, "owner", True)
    )
    refresh = (await factory.login(t.owner_email, t.owner_password))["refresh_token"]
    # one signature character changed (not the last, whose low bits carry no data)
    jwt_text = t.owner_token
    tampered = jwt_text[:-10] + ("B" if jwt_text[-10] == "A" else "A") + jwt_text[-9:]
    for token in ("garbage", "a.b.c", forged, refresh, tampered, "flk_not-a-real-key"):
        r = await factory.client.get("/api/v1/conversations", headers=bearer(token))
        assert_error(r, 401)


# --- refresh-token rotation --------------------------------------------------------------


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_and_reuse_revokes_the_family(factory: Factory) -> None:
    t = await factory.tenant()
    first = await factory.login(t.owner_email, t.owner_password)

    r = await refresh(factory.client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["tenant_id"] == str(t.id) and second["role"] == "owner"
    me = await factory.client.get("/api/v1/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200 and me.json()["user_id"] == str(t.owner_id)

    r = await refresh(factory.client, second["refresh_token"])
    assert r.status_code == 200, r.text
    third = r.json()

    # a spent token is refused, and presenting it revokes its whole family ...
    error = assert_error(await refresh(factory.client, first["refresh_token"]), 401)
    assert "reuse" in error["message"]
    # ... so the newest token of the family fails as well
    assert_error(await refresh(factory.client, third["refresh_token"]), 401)
    assert_error(await refresh(factory.client, second["refresh_token"]), 401)

    # another login (another family) is unaffected
    other = await factory.login(t.owner_email, t.owner_password)
    assert (await refresh(factory.client, other["refresh_token"])).status_code == 200


async def test_unknown_refresh_token_is_401(factory: Factory) -> None:
    await factory.tenant()
    assert_error(await refresh(factory.client, "flr_" + "x" * 40), 401)


async def test_refresh_after_membership_removal_is_401(factory: Factory) -> None:
    from sqlalchemy import delete

    from frontline.models import Membership

    t = await factory.tenant()
    tokens = await factory.login(t.operator_email, t.owner_password)
    async with factory.services.db.transaction() as s:
        await s.execute(delete(Membership).where(Membership.user_id == t.operator_id))
    assert_error(await refresh(factory.client, tokens["refresh_token"]), 401)


# --- roles -------------------------------------------------------------------------------


def admin_requests(suffix: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One request per admin-only endpoint, with a valid body."""
    return [
        ("POST", "/api/v1/channels", {"type": "api", "name": f"API {suffix}"}),
        ("POST", "/api/v1/categories", {"name": f"Billing {suffix}"}),
        ("GET", "/api/v1/jobs", None),
        ("GET", "/api/v1/channels", None),
        ("GET", "/api/v1/api-keys", None),
        ("POST", "/api/v1/api-keys", {"name": f"CRM {suffix}"}),
        (
            "POST",
            "/api/v1/members",
            {
                "email": f"new-{suffix}@example.com",
                "password": "a long password",
                "role": "operator",
            },
        ),
    ]


async def test_operator_is_forbidden_on_admin_endpoints(factory: Factory) -> None:
    t = await factory.tenant()
    for method, url, body in admin_requests("op"):
        r = await factory.client.request(method, url, json=body, headers=t.operator)
        error = assert_error(r, 403)
        assert "admin" in error["message"], (method, url)
    # nothing was created
    assert [
        c["name"]
        for c in (await factory.client.get("/api/v1/categories", headers=t.operator)).json()
    ] == []
    members = (await factory.client.get("/api/v1/members", headers=t.operator)).json()
    assert len(members) == 2
    # but the operator works on conversations
    assert (
        await factory.client.get("/api/v1/conversations", headers=t.operator)
    ).status_code == 200


async def test_admin_and_owner_may_use_admin_endpoints(factory: Factory) -> None:
    t = await factory.tenant()
    admin = await add_staff(factory, t, Role.ADMIN)
    for who, headers in (("admin", bearer(admin["access"])), ("owner", t.owner)):
        for method, url, body in admin_requests(who):
            r = await factory.client.request(method, url, json=body, headers=headers)
            assert r.status_code in (200, 201), (who, method, url, r.text)


async def test_no_one_grants_a_role_above_their_own(factory: Factory) -> None:
    t = await factory.tenant()
    admin = await add_staff(factory, t, Role.ADMIN)
    body = {"email": "boss@example.com", "password": "a long password", "role": "owner"}
    assert_error(
        await factory.client.post("/api/v1/members", json=body, headers=bearer(admin["access"])),
        403,
    )
    r = await factory.client.post("/api/v1/members", json=body, headers=t.owner)
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "owner"


async def test_adding_an_existing_member_again_is_409(factory: Factory) -> None:
    t = await factory.tenant()
    body = {"email": t.operator_email, "password": "a long password", "role": "operator"}
    assert_error(await factory.client.post("/api/v1/members", json=body, headers=t.owner), 409)


# --- API keys ----------------------------------------------------------------------------


async def test_api_key_lifecycle(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post("/api/v1/api-keys", json={"name": "CRM"}, headers=t.owner)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("flk_") and len(key) > 30
    assert created["prefix"] == key[:12]
    assert created["role"] == "admin" and created["revoked_at"] is None

    listed = (await factory.client.get("/api/v1/api-keys", headers=t.owner)).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]  # the plain key is shown once only
    assert key not in (await factory.client.get("/api/v1/api-keys", headers=t.owner)).text

    r = await factory.client.get("/api/v1/conversations", headers=bearer(key))
    assert r.status_code == 200, r.text
    me = (await factory.client.get("/api/v1/me", headers=bearer(key))).json()
    assert (
        me["api_key_id"] == created["id"] and me["tenant_id"] == str(t.id) and me["user_id"] is None
    )

    r = await factory.client.delete(f"/api/v1/api-keys/{created['id']}", headers=t.owner)
    assert r.status_code == 204, r.text
    listed = (await factory.client.get("/api/v1/api-keys", headers=t.owner)).json()
    assert listed[0]["revoked_at"] is not None
    error = assert_error(
        await factory.client.get("/api/v1/conversations", headers=bearer(key)), 401
    )
    assert "API key" in error["message"]


async def test_operator_api_key_has_the_operator_role(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/api-keys", json={"name": "bot", "role": "operator"}, headers=t.owner
    )
    assert r.status_code == 201, r.text
    key = bearer(r.json()["key"])
    assert (await factory.client.get("/api/v1/conversations", headers=key)).status_code == 200
    assert_error(await factory.client.get("/api/v1/jobs", headers=key), 403)
    assert_error(
        await factory.client.post("/api/v1/api-keys", json={"name": "x"}, headers=key), 403
    )


async def test_api_key_role_is_validated(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/api-keys", json={"name": "x", "role": "owner"}, headers=t.owner
    )
    error = assert_error(r, 422)
    assert any(f["loc"][-1] == "role" for f in error["fields"])


async def test_revoking_an_unknown_key_is_404(factory: Factory) -> None:
    t = await factory.tenant()
    assert_error(
        await factory.client.delete(f"/api/v1/api-keys/{uuid.uuid4()}", headers=t.owner), 404
    )


# --- superadmin --------------------------------------------------------------------------


def tenant_body(slug: str) -> dict[str, str]:
    return {
        "name": "Горные туры",
        "slug": slug,
        "locale": "ru",
        "owner_email": f"owner@{slug}.example.com",
        "owner_password": "owner password 1",
        "owner_name": "Анна",
    }


async def test_only_the_superadmin_creates_tenants(factory: Factory) -> None:
    t = await factory.tenant()
    error = assert_error(
        await factory.client.post("/api/v1/tenants", json=tenant_body("new-co"), headers=t.owner),
        403,
    )
    assert "superadmin" in error["message"]
    assert_error(await factory.client.post("/api/v1/tenants", json=tenant_body("new-co")), 401)

    sa = await add_staff(factory, t, Role.OPERATOR, superadmin=True)
    me = (await factory.client.get("/api/v1/me", headers=bearer(sa["access"]))).json()
    assert me["is_superadmin"] is True
    r = await factory.client.post(
        "/api/v1/tenants", json=tenant_body("new-co"), headers=bearer(sa["access"])
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["slug"] == "new-co" and created["name"] == "Горные туры"

    # the new owner can log in to the new tenant
    tokens = await factory.login("owner@new-co.example.com", "owner password 1")
    assert tokens["tenant_id"] == created["id"] and tokens["role"] == "owner"
    current = await factory.client.get("/api/v1/tenant", headers=bearer(tokens["access_token"]))
    assert current.json()["id"] == created["id"]

    # slugs are unique
    again = await factory.client.post(
        "/api/v1/tenants", json=tenant_body("new-co"), headers=bearer(sa["access"])
    )
    assert_error(again, 409)
