"""AI settings API: defaults, write-only encrypted keys, validation, roles, key rotation."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from frontline.aisettings.service import load_runtime_settings
from frontline.app import create_app
from frontline.deps import Services
from frontline.kit.crypto import DecryptionError, SecretBox
from frontline.kit.repository import TenantScope
from frontline.models import AiSettings
from frontline.settings import Settings
from tests.conftest import TEST_SECRET, Factory, TenantFixture

API = "/api/v1"
URL = f"{API}/ai/settings"
KEY = "sk-or-v1-very-secret-key-0123456789"
OTHER_KEY = "sk-openai-another-secret-9876543210"

CHAIN: list[dict[str, Any]] = [
    {"kind": "openrouter", "model": "openai/gpt-4o", "api_key": KEY},
    {"kind": "openrouter", "model": "meta-llama/llama-3.1-8b-instruct", "api_key": KEY},
    {"kind": "offline", "model": "offline"},
]


async def put(client: httpx.AsyncClient, t: TenantFixture, **body: Any) -> httpx.Response:
    return await client.put(URL, json=body, headers=t.owner)


async def get(client: httpx.AsyncClient, t: TenantFixture) -> dict[str, Any]:
    r = await client.get(URL, headers=t.owner)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def raw_row(services: Services, t: TenantFixture) -> AiSettings:
    async with services.db.transaction() as session:
        row = (
            await session.execute(select(AiSettings).where(AiSettings.tenant_id == t.id))
        ).scalar_one()
        session.expunge(row)
        return row


async def test_defaults_when_unset(factory: Factory, services: Services) -> None:
    t = await factory.tenant(ai=True)
    data = await get(factory.client, t)
    assert data["provider_chain"] == []
    assert data["auto_reply"] is True
    assert data["auto_booking"] is False
    assert data["offline_fallback"] is True
    assert data["ai_enabled"] is True
    assert data["history_size"] == 10
    assert data["log_retention_days"] == 90
    assert data["escalation_keywords"] == []
    async with services.db.transaction() as session:
        runtime = await load_runtime_settings(session, TenantScope(t.id), services.secret_box)
    assert runtime.chain == ()
    assert runtime.history_size == 10
    assert runtime.offline_fallback is True


async def test_put_then_get_never_returns_the_key(
    factory: Factory, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    t = await factory.tenant(ai=True)
    r = await put(
        factory.client,
        t,
        provider_chain=CHAIN,
        temperature=0.5,
        max_tokens=500,
        system_prompt="You are the support agent of Hotel Example.",
        answer_style="friendly, short",
        auto_reply=False,
        auto_booking=True,
        escalation_keywords=["lawyer", " refund ", "lawyer", ""],
        history_size=6,
        log_retention_days=30,
    )
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    data = await get(factory.client, t)
    assert KEY not in str(data)
    chain = data["provider_chain"]
    assert [(e["kind"], e["model"]) for e in chain] == [(e["kind"], e["model"]) for e in CHAIN]
    assert [e["has_api_key"] for e in chain] == [True, True, False]
    assert all("api_key" not in e["config"] for e in chain)
    assert data["escalation_keywords"] == ["lawyer", "refund"]
    assert (data["temperature"], data["max_tokens"], data["history_size"]) == (0.5, 500, 6)
    assert data["auto_reply"] is False and data["auto_booking"] is True

    row = await raw_row(services, t)
    assert row.secrets_encrypted is not None
    assert KEY not in row.secrets_encrypted
    assert KEY not in str(row.provider_chain)

    async with services.db.transaction() as session:
        runtime = await load_runtime_settings(session, TenantScope(t.id), services.secret_box)
    assert [p.config.get("api_key") for p in runtime.chain] == [KEY, KEY, None]
    assert runtime.log_retention_days == 30 and runtime.auto_reply is False

    assert KEY not in caplog.text  # never logged either

    # another tenant sees only its own defaults
    other = await factory.tenant(ai=True)
    assert (await get(factory.client, other))["provider_chain"] == []


async def test_omitted_key_is_kept_and_null_removes_it(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant(ai=True)
    assert (await put(factory.client, t, provider_chain=CHAIN)).status_code == 200
    first = (await get(factory.client, t))["provider_chain"]

    # the same chain as GET shows it (no keys): the keys stay
    echoed = [{"id": e["id"], "kind": e["kind"], "model": e["model"]} for e in first]
    r = await put(factory.client, t, provider_chain=echoed, temperature=0.9)
    assert r.status_code == 200, r.text
    assert [e["has_api_key"] for e in r.json()["provider_chain"]] == [True, True, False]
    # without ids, entries of the same kind and model keep theirs too; reordering is fine
    reordered = [
        {"kind": "openrouter", "model": "meta-llama/llama-3.1-8b-instruct"},
        {"kind": "openrouter", "model": "openai/gpt-4o"},
    ]
    r = await put(factory.client, t, provider_chain=reordered)
    assert r.status_code == 200, r.text
    assert [e["has_api_key"] for e in r.json()["provider_chain"]] == [True, True]
    ids = [e["id"] for e in r.json()["provider_chain"]]
    assert ids == [first[1]["id"], first[0]["id"]]

    # other fields alone leave the chain untouched
    r = await put(factory.client, t, answer_style="formal")
    assert [e["has_api_key"] for e in r.json()["provider_chain"]] == [True, True]

    # explicit null removes the key of that entry only; a new key replaces the other
    r = await put(
        factory.client,
        t,
        provider_chain=[
            {"id": ids[0], "kind": "openrouter", "model": "meta-llama/llama-3.1-8b-instruct"},
            {"id": ids[1], "kind": "openai", "model": "gpt-4o-mini", "api_key": OTHER_KEY},
        ],
    )
    assert r.status_code == 200, r.text
    r = await put(
        factory.client,
        t,
        provider_chain=[
            {
                "id": ids[0],
                "kind": "openai_compatible",
                "model": "llama3",
                "config": {"base_url": "http://127.0.0.1:11434/v1"},
                "api_key": None,
            },
            {"id": ids[1], "kind": "openai", "model": "gpt-4o-mini"},
        ],
    )
    assert r.status_code == 200, r.text
    chain = r.json()["provider_chain"]
    assert [e["has_api_key"] for e in chain] == [False, True]
    assert chain[0]["config"] == {"base_url": "http://127.0.0.1:11434/v1"}
    async with services.db.transaction() as session:
        runtime = await load_runtime_settings(session, TenantScope(t.id), services.secret_box)
    assert [p.config.get("api_key") for p in runtime.chain] == [None, OTHER_KEY]
    row = await raw_row(services, t)
    assert row.secrets_encrypted is not None and OTHER_KEY not in row.secrets_encrypted

    # removing the last key clears the stored secrets
    r = await put(
        factory.client,
        t,
        provider_chain=[{"kind": "offline", "model": "offline"}],
    )
    assert r.status_code == 200, r.text
    assert (await raw_row(services, t)).secrets_encrypted is None


async def test_gigachat_key_and_secrets_inside_config_are_write_only(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant(ai=True)
    r = await put(
        factory.client,
        t,
        provider_chain=[
            {"kind": "gigachat", "model": "GigaChat", "api_key": KEY},
            {
                "kind": "yandexgpt",
                "model": "yandexgpt-lite",
                "config": {"folder_id": "b1gexample", "iam_token": OTHER_KEY},
            },
        ],
    )
    assert r.status_code == 200, r.text
    assert KEY not in r.text and OTHER_KEY not in r.text
    chain = r.json()["provider_chain"]
    assert chain[0]["has_api_key"] is True
    assert chain[0]["secret_fields"] == ["authorization_key"]
    assert chain[1]["has_api_key"] is False
    assert chain[1]["secret_fields"] == ["iam_token"]
    assert chain[1]["config"] == {"folder_id": "b1gexample"}
    async with services.db.transaction() as session:
        runtime = await load_runtime_settings(session, TenantScope(t.id), services.secret_box)
    assert runtime.chain[0].config["authorization_key"] == KEY
    assert runtime.chain[1].config["iam_token"] == OTHER_KEY


@pytest.mark.parametrize(
    ("entry", "loc_part"),
    [
        ({"kind": "no-such-llm", "model": "x"}, "kind"),
        ({"kind": "openai", "model": "gpt-4o"}, "api_key"),  # a key is required
        ({"kind": "yandexgpt", "model": "yandexgpt", "api_key": KEY}, "folder_id"),
        (
            {"kind": "openai", "model": "gpt-4o", "api_key": KEY, "config": {"bogus": 1}},
            "bogus",
        ),
        ({"kind": "openai", "model": "", "api_key": KEY}, "model"),
    ],
)
async def test_invalid_chain_is_422_with_fields(
    factory: Factory, services: Services, entry: dict[str, Any], loc_part: str
) -> None:
    t = await factory.tenant(ai=True)
    r = await put(factory.client, t, provider_chain=[{"kind": "offline", "model": "x"}, entry])
    assert r.status_code == 422, r.text
    assert KEY not in r.text
    error = r.json()["error"]
    locs = [f["loc"] for f in error["fields"]]
    assert any(loc[:3] == ["body", "provider_chain", "1"] for loc in locs), locs
    assert any(loc_part in loc for loc in locs), locs
    # nothing was stored
    assert (await get(factory.client, t))["provider_chain"] == []


async def test_invalid_scalars_are_422(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    for body in (
        {"temperature": 3},
        {"history_size": -1},
        {"log_retention_days": 0},
        {"unknown_field": True},
    ):
        r = await put(factory.client, t, **body)
        assert r.status_code == 422, (body, r.text)


async def test_operator_reads_but_cannot_write(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    r = await factory.client.get(URL, headers=t.operator)
    assert r.status_code == 200, r.text
    r = await factory.client.put(URL, json={"temperature": 0.1}, headers=t.operator)
    assert r.status_code == 403, r.text
    r = await factory.client.post(f"{URL}/rotate-keys", headers=t.operator)
    assert r.status_code == 403, r.text
    r = await factory.client.get(URL)
    assert r.status_code == 401, r.text


NEW_SECRET = "a-brand-new-secret-key-abcdefghijklmnopqrstuvwxyz"


async def test_rotation_re_encrypts_under_the_new_key(
    factory: Factory, services: Services, settings: Settings
) -> None:
    t = await factory.tenant(ai=True)
    assert (await put(factory.client, t, provider_chain=CHAIN)).status_code == 200
    old_ciphertext = (await raw_row(services, t)).secrets_encrypted
    assert old_ciphertext is not None

    rotated_settings = Settings(
        **{
            **settings.model_dump(),
            "secret_key": NEW_SECRET,
            "previous_secret_keys": TEST_SECRET,
        }
    )
    new_app = create_app(rotated_settings, run_worker=False)
    new_services: Services = new_app.state.services
    try:
        # the old ciphertext still decrypts with the new key first and the old one kept
        async with new_services.db.transaction() as session:
            runtime = await load_runtime_settings(
                session, TenantScope(t.id), new_services.secret_box
            )
        assert [p.config.get("api_key") for p in runtime.chain] == [KEY, KEY, None]
        with pytest.raises(DecryptionError):
            SecretBox([NEW_SECRET]).decrypt(old_ciphertext)

        transport = httpx.ASGITransport(app=new_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            login = await c.post(
                f"{API}/auth/login", json={"email": t.owner_email, "password": t.owner_password}
            )
            assert login.status_code == 200, login.text
            owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
            r = await c.post(f"{URL}/rotate-keys", headers=owner)
            assert r.status_code == 200, r.text
            assert r.json() == {"rotated": 1}
            assert KEY not in r.text
            assert [
                e["has_api_key"] for e in (await c.get(URL, headers=owner)).json()["provider_chain"]
            ] == [True, True, False]
    finally:
        await new_services.broker.close()
        await new_services.db.dispose()

    new_ciphertext = (await raw_row(services, t)).secrets_encrypted
    assert new_ciphertext is not None and new_ciphertext != old_ciphertext
    assert KEY in SecretBox([NEW_SECRET]).decrypt(new_ciphertext)  # the new key alone
    with pytest.raises(DecryptionError):
        SecretBox([TEST_SECRET]).decrypt(new_ciphertext)


async def test_rotation_without_keys_is_a_no_op(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    r = await factory.client.post(f"{URL}/rotate-keys", headers=t.owner)
    assert r.status_code == 200, r.text
    assert r.json() == {"rotated": 0}


async def test_unreadable_keys_are_a_clear_409(
    factory: Factory, services: Services, settings: Settings
) -> None:
    t = await factory.tenant(ai=True)
    assert (await put(factory.client, t, provider_chain=CHAIN)).status_code == 200
    forgetful = Settings(**{**settings.model_dump(), "secret_key": NEW_SECRET})
    new_app = create_app(forgetful, run_worker=False)
    new_services: Services = new_app.state.services
    try:
        transport = httpx.ASGITransport(app=new_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            login = await c.post(
                f"{API}/auth/login", json={"email": t.owner_email, "password": t.owner_password}
            )
            owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert (await c.get(URL, headers=owner)).status_code == 200
            r = await c.put(URL, json={"provider_chain": CHAIN[:1]}, headers=owner)
            assert r.status_code == 409, r.text
            r = await c.post(f"{URL}/rotate-keys", headers=owner)
            assert r.status_code == 409, r.text
    finally:
        await new_services.broker.close()
        await new_services.db.dispose()
