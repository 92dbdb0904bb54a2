"""A conversation moderation holds (``hold``: no AI turn, handoff reason ``Held by
moderation``) gets a rule-based handoff summary, ``held by moderation: <rules>``: the held
message - abuse, spam, perhaps an injection attempt - is never sent to a model to be
summarized. Any other handoff still gets the copilot's summary job."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from frontline import events
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.models import Job
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import ai_calls, answer, use_fake_llm
from tests.conftest import Factory
from tests.conversations.test_moderation import RUDE, conversation, set_moderation


async def summary_jobs(services: Services) -> int:
    async with services.db.reader() as s:
        stmt = (
            select(func.count())
            .select_from(Job)
            .where(Job.kind == events.JOB_COPILOT_HANDOFF_SUMMARY)
        )
        return int((await s.execute(stmt)).scalar_one())


async def test_a_held_conversation_is_summarized_by_rule_and_no_model_reads_it(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    await set_moderation(factory, t, profanity="hold")
    llm.script(OPENAI_PATH, answer("full_answer", "Отменить бронь можно в личном кабинете."))
    calm = await factory.inbound(t, text="Как отменить бронь?")
    await worker.run_until_idle()
    assert len(llm.requests_to(OPENAI_PATH)) == 1  # the AI answered the calm message
    held = await factory.inbound(t, text=RUDE)
    assert held["conversation_id"] == calm["conversation_id"]
    await worker.run_until_idle()
    c = await conversation(factory, t, held["conversation_id"])
    assert (c["status"], c["handoff_reason_code"]) == ("pending", "moderation")
    stored = c["meta"]["handoff_summary"]
    assert stored["summary"] == "held by moderation: profanity"
    assert (stored["provider"], stored["needs"], stored["degraded"]) == ("rules", [], False)
    assert stored["handoff_at"]
    # no summary job, no model asked: the held words went nowhere
    assert await summary_jobs(services) == 0
    assert len(llm.requests_to(OPENAI_PATH)) == 1
    sent = [json.dumps(r.json(), ensure_ascii=False) for r in llm.requests_to(OPENAI_PATH)]
    assert not any(RUDE in body for body in sent)
    assert [c.purpose for c in await ai_calls(services, t) if c.purpose == "copilot.summary"] == []


async def test_a_held_message_in_a_conversation_already_waiting_asks_no_model_either(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    """A hold in a conversation already handed off changes nothing (the operators have it)
    and queues no summary of the held message."""
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    await set_moderation(factory, t, profanity="hold")
    held = await factory.inbound(t, text=RUDE)
    await worker.run_until_idle()
    again = await factory.inbound(t, text=RUDE + " Ответьте!")
    assert again["conversation_id"] == held["conversation_id"]
    await worker.run_until_idle()
    c = await conversation(factory, t, held["conversation_id"])
    assert c["meta"]["handoff_summary"]["summary"] == "held by moderation: profanity"
    assert await summary_jobs(services) == 0
    assert llm.requests_to(OPENAI_PATH) == []
