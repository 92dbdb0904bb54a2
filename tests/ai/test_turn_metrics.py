"""What an AI turn counts in the metrics (``frontline_ai_turns_total`` by answering provider
and outcome, ``frontline_llm_call_seconds`` by provider and outcome, tokens), with a real
OpenAI-compatible client against the local fake LLM server and the offline engine."""

from __future__ import annotations

from collections.abc import Callable

from frontline.jobs.worker import Worker
from frontline.kit.metrics import registry
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply
from tests.ai.test_ai_reply import PRICE_PROMPT, answer, use_fake_llm
from tests.conftest import Factory

REMOTE = "openai_compatible"


def value(name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def turns(provider: str, outcome: str) -> float:
    return value("frontline_ai_turns_total", provider=provider, outcome=outcome)


def calls(provider: str, outcome: str) -> float:
    return value("frontline_llm_call_seconds_count", provider=provider, outcome=outcome)


def delta() -> Callable[[], dict[str, float]]:
    """What changed in the AI series since now (call the result after the turn)."""
    series = [
        ("turns", p, o)
        for p in (REMOTE, "offline", "none")
        for o in ("answered", "fell_back", "handed_off", "suggested", "failed", "superseded")
    ] + [("calls", p, o) for p in (REMOTE, "offline") for o in ("ok", "error")]

    def read() -> dict[str, float]:
        return {
            f"{kind}:{p}:{o}": (turns if kind == "turns" else calls)(p, o) for kind, p, o in series
        }

    before = read()

    def changed() -> dict[str, float]:
        after = read()
        return {k: after[k] - before[k] for k in after if after[k] != before[k]}

    return changed


async def test_a_remote_answer_counts_as_answered_by_that_provider(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    llm.script(OPENAI_PATH, answer("full_answer", "Тур на Байкал стоит 45 000 ₽."))
    tokens = value("frontline_llm_tokens_total", provider=REMOTE, direction="input")
    changed = delta()
    await factory.inbound(t, text="Сколько стоит тур на Байкал?")
    await worker.run_until_idle()
    assert changed() == {f"turns:{REMOTE}:answered": 1, f"calls:{REMOTE}:ok": 1}
    assert value("frontline_llm_tokens_total", provider=REMOTE, direction="input") > tokens


async def test_a_failing_provider_then_the_offline_engine_counts_as_fell_back(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    llm.script(OPENAI_PATH, Reply(status=500, json={"error": {"message": "down"}}))
    changed = delta()
    await factory.inbound(t, text="Привет")  # the offline engine asks what is needed
    await worker.run_until_idle()
    assert changed() == {
        "turns:offline:fell_back": 1,
        f"calls:{REMOTE}:error": 1,
        "calls:offline:ok": 1,
    }


async def test_handoff_suggestion_and_total_failure_are_told_apart(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    changed = delta()
    await factory.inbound(t, contact="a", text="Позовите оператора, пожалуйста")
    await worker.run_until_idle()
    assert changed() == {"turns:offline:handed_off": 1, "calls:offline:ok": 1}

    u = await factory.tenant(ai=True)
    await use_fake_llm(factory, u, llm, auto_reply=False)
    llm.script(OPENAI_PATH, answer("full_answer", "Черновик ответа"))
    changed = delta()
    await factory.inbound(u, contact="b", text="Есть ли скидки для детей?")
    await worker.run_until_idle()
    assert changed() == {f"turns:{REMOTE}:suggested": 1, f"calls:{REMOTE}:ok": 1}

    v = await factory.tenant(ai=True)
    await use_fake_llm(factory, v, llm, offline_fallback=False)
    llm.script(OPENAI_PATH, Reply(status=500, json={"error": {"message": "down"}}))
    changed = delta()
    await factory.inbound(v, contact="c", text="Есть ли скидки для детей?")
    await worker.run_until_idle()
    found = changed()
    # the handoff queues the copilot's summary of it, a call of its own (not a turn)
    assert {k: v for k, v in found.items() if k.startswith("turns:")} == {"turns:none:failed": 1}
    assert found[f"calls:{REMOTE}:error"] == 1
