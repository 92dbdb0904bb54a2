"""The handoff summary is made when the conversation is handed off, by a durable job, and
stored with the conversation (``meta.handoff_summary``): opening the conversation reads it
and asks no model. A summary of an earlier handoff is never shown for a later one."""

from __future__ import annotations

import json
from typing import Any

from frontline.conversations import service as conversations
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.ai.test_ai_reply import use_fake_llm
from tests.conftest import Factory, TenantFixture
from tests.copilot.helpers import calls

ASK = "Сколько стоит тур на Байкал? Позовите оператора, пожалуйста"


async def _conversation(factory: Factory, t: TenantFixture, cid: int) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.operator)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _escalate() -> Reply:
    body = {
        "full_name": None,
        "issue_summary": "цена тура",
        "decision": "escalate_to_human",
        "draft_reply": "",
        "language": "ru",
        "citations": [],
        "handoff_reason": "клиент просит оператора",
    }
    return Reply(json=openai_completion(json.dumps(body, ensure_ascii=False), model="m-1"))


async def test_the_model_summarizes_at_the_handoff_and_opening_reads_the_stored_summary(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    summary = {"summary": "Клиент спрашивает цену тура на Байкал.", "needs": ["цена тура"]}
    llm.script(
        OPENAI_PATH,
        _escalate(),
        Reply(json=openai_completion(json.dumps(summary, ensure_ascii=False), model="m-1")),
    )
    cid = (await factory.inbound(t, text=ASK))["conversation_id"]
    await worker.run_until_idle()
    asked = llm.requests_to(OPENAI_PATH)
    assert len(asked) == 2  # the AI turn, then the summary at the handoff
    assert "summary" in asked[1].json()["messages"][0]["content"].lower()
    detail = await _conversation(factory, t, cid)
    assert detail["status"] == "pending"
    stored = detail["meta"]["handoff_summary"]
    assert stored["summary"] == summary["summary"] and stored["needs"] == ["цена тура"]
    assert (stored["provider"], stored["model"], stored["language"]) == (
        "openai_compatible",
        "m-1",
        "ru",
    )
    assert stored["handoff_at"]
    assert [c.purpose for c in await calls(services, t)][-1] == "copilot.summary"
    # opening the conversation (again) asks no model
    await _conversation(factory, t, cid)
    assert len(llm.requests_to(OPENAI_PATH)) == 2


async def test_offline_summary_and_a_later_handoff_never_shows_the_earlier_summary(
    factory: Factory, services: Services, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    cid = (await factory.inbound(t, text=ASK))["conversation_id"]
    await worker.run_until_idle()
    detail = await _conversation(factory, t, cid)
    stored = detail["meta"]["handoff_summary"]
    assert detail["status"] == "pending" and stored["provider"] == "offline"
    assert "Байкал" in stored["summary"]
    # resolved, then the customer writes again: the old summary is gone
    r = await factory.client.patch(
        f"/api/v1/conversations/{cid}", headers=t.operator, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.text
    await factory.inbound(t, text="Здравствуйте ещё раз")
    assert "handoff_summary" not in (await _conversation(factory, t, cid))["meta"]
    # a job of an earlier handoff stores nothing
    scope = TenantScope(t.id)
    async with services.db.transaction() as session:
        stored_now = await conversations.store_handoff_summary(
            session, scope, cid, stored["handoff_at"], {"summary": "old"}
        )
    assert stored_now is False
    assert "handoff_summary" not in (await _conversation(factory, t, cid))["meta"]
