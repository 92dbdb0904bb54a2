"""Refusals speak the client's language: ``Accept-Language: ru`` gets every error body's
message (and each 422 field's) in Russian with ``Content-Language: ru``; English otherwise.
The status, code and ``Retry-After`` stay the same, and a refused request writes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.conftest import Factory, TenantFixture
from tests.test_bad_input import big_json, inbound_url, row_counts

API = "/api/v1"
RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9,ru;q=0.3"}
CYRILLIC = re.compile("[а-яё]", re.I)


def russian(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-language"] == "ru"
    assert int(r.headers["content-length"]) == len(r.content)
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code
    assert CYRILLIC.search(error["message"]), error["message"]
    return error


def english(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert "content-language" not in r.headers
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code
    assert not CYRILLIC.search(error["message"]), error["message"]
    return error


def message(t: TenantFixture, text: str, contact: str = "c-1") -> dict[str, Any]:
    return {"external_id": uuid.uuid4().hex, "contact": {"external_id": contact}, "text": text}


async def test_a_wrong_password_in_russian_and_english(factory: Factory) -> None:
    t = await factory.tenant()
    body = {"email": t.owner_email, "password": "guess"}
    r = await factory.client.post(f"{API}/auth/login", json=body, headers=RU)
    assert russian(r, 401, "unauthorized")["message"] == "неверный e-mail или пароль"
    assert r.headers["www-authenticate"] == "Bearer"
    r = await factory.client.post(f"{API}/auth/login", json=body, headers=EN)
    assert english(r, 401, "unauthorized")["message"] == "wrong e-mail or password"
    r = await factory.client.post(f"{API}/auth/login", json=body)  # no header: English
    english(r, 401, "unauthorized")


async def test_the_sign_in_back_off_in_russian_keeps_its_retry_after(factory: Factory) -> None:
    t = await factory.tenant()
    body = {"email": t.owner_email, "password": "guess"}
    for _ in range(5):
        await factory.client.post(f"{API}/auth/login", json=body)
    r = await factory.client.post(f"{API}/auth/login", json=body, headers=RU)
    error = russian(r, 429, "too_many_requests")
    assert error["message"] == "слишком много неудачных попыток входа; попробуйте позже"
    assert int(r.headers["retry-after"]) >= 1


async def test_validation_fields_in_russian_and_nothing_is_stored(factory: Factory) -> None:
    t = await factory.tenant()
    counts = await row_counts(factory)
    r = await factory.client.post(
        inbound_url(t),
        json={"external_id": uuid.uuid4().hex, "contact": {}, "text": " \n\t "},
        headers={**t.api_channel, **RU},
    )
    error = russian(r, 422, "invalid")
    assert error["message"] == "некорректное сообщение"
    by_loc = {".".join(f["loc"]): f["message"] for f in error["fields"]}
    assert by_loc["contact.external_id"] == "обязательное поле"
    assert by_loc["text"] == "текст не может быть пустым (одни пробелы)"
    r = await factory.client.post(
        inbound_url(t), json=message(t, "x" * 20_001), headers={**t.api_channel, **RU}
    )
    [field] = russian(r, 422, "invalid")["fields"]
    assert field["message"] == "строка должна содержать не больше 20000 символов"
    assert await row_counts(factory) == counts


async def test_not_found_method_and_body_size_in_russian(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.get(f"{API}/conversations/987654321", headers={**t.owner, **RU})
    assert russian(r, 404, "not_found")["message"] == "диалог не найден"
    r = await factory.client.get(f"{API}/no-such-page", headers=RU)
    assert russian(r, 404, "not_found")["message"] == "не найдено"
    r = await factory.client.put(f"{API}/auth/login", json={}, headers=RU)
    russian(r, 405, "method_not_allowed")
    assert "POST" in r.headers["allow"]
    counts = await row_counts(factory)
    r = await factory.client.post(
        f"{API}/categories",
        content=big_json(int(1.1 * 1024 * 1024)),
        headers={**t.owner, **RU, "Content-Type": "application/json"},
    )
    assert russian(r, 413, "payload_too_large")["message"].startswith("тело запроса больше")
    assert await row_counts(factory) == counts


async def test_a_conflict_with_a_value_in_russian(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(f"{API}/categories", json={"name": "Оплата"}, headers=t.owner)
    assert r.status_code == 201, r.text
    r = await factory.client.post(
        f"{API}/categories", json={"name": "Оплата"}, headers={**t.owner, **RU}
    )
    assert russian(r, 409, "conflict")["message"] == "категория 'Оплата' уже существует"


async def test_success_is_untouched(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        inbound_url(t), json=message(t, "Привет"), headers={**t.api_channel, **RU}
    )
    assert r.status_code == 202, r.text
    assert "content-language" not in r.headers
    assert r.json()["conversation_id"]
