"""The OpenAPI document describes what the API answers: one error body, every ``$ref``
resolvable, per-type channel configs, the cursor's format, and 405 naming every method."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Factory

API = "/api/v1"
ERROR_REF = "#/components/schemas/ErrorBody"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec: dict[str, Any] = r.json()
    return spec


async def test_every_ref_resolves(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    refs = set(_refs(spec))
    assert "#/components/schemas/ApiContactIn" in refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    assert "$defs" not in str(spec)


async def test_errors_are_documented_with_the_one_error_body(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert {"code", "message"} <= set(detail["required"])
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": ERROR_REF}, (method, path, status)
            if path.startswith(API):
                assert {"401", "404", "422"} <= set(op["responses"]), (method, path)
    conversation = spec["paths"][f"{API}/conversations/{{conversation_id}}"]["patch"]
    assert {"400", "401", "403", "404", "409", "413", "415", "422"} <= set(
        conversation["responses"]
    )
    login = spec["paths"][f"{API}/auth/login"]["post"]["responses"]["429"]
    assert "Retry-After" in login["headers"]
    assert "401" not in spec["paths"]["/health"]["get"]["responses"]


async def test_channel_configs_are_a_union_by_type(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    channel_in = schemas["ChannelIn"]
    mapping = channel_in["discriminator"]["mapping"]
    assert channel_in["discriminator"]["propertyName"] == "type"
    assert set(mapping) == {"api", "email", "web", "telegram", "whatsapp", "avito", "mailbox"}
    web = schemas[mapping["web"].removeprefix("#/components/schemas/")]
    assert web["properties"]["type"]["const"] == "web"
    assert "allowed_origins" in str(web["properties"]["config"]) or "WebChannelConfig" in str(
        web["properties"]["config"]
    )
    assert "allowed_origins" in schemas["WebChannelConfig"]["properties"]
    assert "bot_token" in schemas["TelegramChannelConfig"]["properties"]


async def test_cursor_format_is_in_the_schema(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    params = spec["paths"][f"{API}/conversations"]["get"]["parameters"]
    [cursor] = [p for p in params if p["name"] == "cursor"]
    assert "base64" in cursor["description"]
    pattern = str(cursor["schema"])
    assert "A-Za-z0-9_-" in pattern


async def test_a_channel_of_each_type_is_checked_against_its_config(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    r = await c.post(
        f"{API}/channels",
        headers=t.owner,
        json={"type": "web", "name": "site", "config": {"allowed_origins": ["https://a.example"]}},
    )
    assert r.status_code == 201, r.text
    r = await c.post(
        f"{API}/channels",
        headers=t.owner,
        json={"type": "web", "name": "site", "config": {"bot_token": "x"}},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid"


async def test_405_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    for path in (f"{API}/channels/{{channel_id}}", f"{API}/categories/{{category_id}}"):
        documented = {m.upper() for m in spec["paths"][path]}
        url = path.replace("{channel_id}", "00000000-0000-0000-0000-000000000001").replace(
            "{category_id}", "00000000-0000-0000-0000-000000000001"
        )
        r = await client.request("TRACE", url)
        assert r.status_code == 405
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert allowed == documented, (path, allowed, documented)
        assert r.json()["error"]["code"] == "method_not_allowed"
