"""A message moderation held (abuse, spam, perhaps an injection attempt) never reaches a
model in a later AI turn either: when an operator hands the conversation back to the AI, the
turn's history leaves the held message out (the copilot does the same, see
tests/copilot/test_copilot_held.py)."""

from __future__ import annotations

import json

from frontline.jobs.worker import Worker
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import PRICE_PROMPT, answer, use_fake_llm
from tests.conftest import Factory
from tests.conversations.test_moderation import RUDE, conversation, set_moderation

QUESTION = "Сколько стоит тур на Байкал?"


async def test_a_turn_after_the_hand_back_does_not_send_the_held_message(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    await set_moderation(factory, t, profanity="hold")
    cid = (await factory.inbound(t, text=RUDE))["conversation_id"]
    await worker.run_until_idle()
    held = await conversation(factory, t, cid)
    assert held["meta"]["moderation"]["mode"] == "hold" and held["status"] != "bot"
    # the operator hands it back to the AI; the customer asks again, politely
    r = await factory.client.patch(
        f"/api/v1/conversations/{cid}", json={"status": "bot"}, headers=t.operator
    )
    assert r.status_code == 200, r.text
    llm.script(OPENAI_PATH, answer("full_answer", "Тур «Байкал» стоит 45 000 ₽ на человека."))
    assert (await factory.inbound(t, text=QUESTION))["conversation_id"] == cid
    await worker.run_until_idle()
    sent = [json.dumps(q.json(), ensure_ascii=False) for q in llm.requests_to(OPENAI_PATH)]
    assert any(QUESTION in body for body in sent), "the model answered the turn"
    assert not [body for body in sent if RUDE in body]
