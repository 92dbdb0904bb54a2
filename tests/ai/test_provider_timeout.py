"""A provider that does not answer is given up after ``FRONTLINE_AI_PROVIDER_TIMEOUT_SECONDS``
and the chain's next link (here the offline engine) answers: the customer is not kept waiting
for a hung server."""

from __future__ import annotations

import pytest

from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.settings import Settings
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import ai_calls, answer, use_fake_llm
from tests.conftest import Factory


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ai_provider_timeout_seconds": 1.0})


async def test_a_hung_provider_is_given_up_after_the_timeout(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    hung = answer("full_answer", "Тур стоит 45 000 ₽.")
    hung.delay = 30.0
    llm.script(OPENAI_PATH, hung)
    await factory.inbound(t, text="Сколько стоит тур на Байкал?")
    await worker.run_until_idle()
    calls = sorted(await ai_calls(services, t), key=lambda c: c.id)
    # the turn's first call: the provider, given up after 1 s, not the 30 s it would take
    first = calls[0]
    assert first.provider == "openai_compatible"
    assert (first.error or "").startswith("Timeout"), first.error
    assert first.latency_ms < 10_000
    # then the offline engine answered the same turn
    assert calls[1].provider == "offline" and calls[1].error is None
