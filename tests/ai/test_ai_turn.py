"""The cost of one AI turn stays flat: the history read is bounded by what the prompt shows,
decrypted settings are cached under what the turn's own query read, and the reply is
delivered by the turn's own worker right after the commit (at-least-once via the lease)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from frontline.ai import flows
from frontline.ai.prompts import HistoryMessage, PromptSettings, build_prompt
from frontline.aisettings import service as aisettings
from frontline.conversations import service as conversations
from frontline.conversations.repository import TURN_RECENT_EXTRA
from frontline.deps import Services
from frontline.jobs import queue
from frontline.jobs.registry import JobContext
from frontline.jobs.worker import Worker
from frontline.kit.crypto import SecretBox
from frontline.kit.time import utcnow
from frontline.messages import service as messages
from frontline.models import AiCall, DeliveryStatus, Job, JobStatus, Message
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import PRICE_PROMPT, answer, conversation, use_fake_llm
from tests.channels.test_api_callback import CallbackServer, callback  # noqa: F401
from tests.conftest import TEST_SECRET, Factory

# -- the history the prompt shows, read from the newest messages only ------------------------


@dataclass(frozen=True)
class Row:
    id: int
    sender_type: str
    text: str
    is_internal: bool


def reference_prompt(rows: list[Row], message_id: int, history_size: int) -> tuple[str, ...] | None:
    """What the turn prompted before the history read was bounded: every message read."""
    customer = [m for m in rows if m.sender_type == "contact" and not m.is_internal]
    target = next((m for m in customer if m.id == message_id), None)
    if target is None or customer[-1].id != message_id:
        return None
    history = [
        HistoryMessage(sender_type=m.sender_type, content=m.text)  # type: ignore[arg-type]
        for m in rows
        if not m.is_internal and m.id <= message_id
    ]
    settings = PromptSettings(history_limit=history_size, language="ru")
    prompt = build_prompt(settings, history, (), (), target.text)
    return tuple(f"{m.role}:{m.content}" for m in prompt.messages)


TEXTS = ["Здравствуйте", "Hello there", "  ", "12345", "Сколько стоит тур?", "What time?", ""]


def random_conversation(rng: random.Random, size: int) -> list[Row]:
    senders = ["contact", "contact", "ai", "operator", "system"]
    return [
        Row(
            i + 1,
            rng.choice(senders),
            rng.choice(TEXTS) + (f" {i}" if rng.random() < 0.7 else ""),
            rng.random() < 0.15,
        )
        for i in range(size)
    ]


async def test_the_bounded_history_read_prompts_exactly_as_reading_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(7)
    conversation: list[Row] = []
    read: list[int] = []  # rows each read returned

    async def recent(
        _session: Any, _scope: Any, _cid: int, limit: int
    ) -> list[tuple[int, str, str]]:
        visible = [r for r in reversed(conversation) if not r.is_internal][:limit]
        read.append(len(visible))
        return [(r.id, r.sender_type, r.text) for r in visible]

    monkeypatch.setattr(messages, "recent_unheld", recent)
    checked = skipped = bounded = 0
    for _case in range(600):
        conversation[:] = random_conversation(rng, rng.randint(1, 80))
        history_size = rng.choice([0, 1, 2, 3, 10, 25])
        customer = [r.id for r in conversation if r.sender_type == "contact" and not r.is_internal]
        if customer and rng.random() < 0.7:
            message_id = customer[-1]  # the usual turn: the customer's latest message
        else:
            message_id = rng.randint(1, len(conversation) + 2)
        read.clear()
        first = None
        if rng.random() < 0.5:  # the first rows come with the turn's context query
            limit = history_size + TURN_RECENT_EXTRA
            visible = [r for r in reversed(conversation) if not r.is_internal][:limit]
            first = ([(r.id, r.sender_type, r.text) for r in visible], limit)
            read.append(len(visible))
        picked = await flows._recent_history(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            1,
            message_id,
            history_size,
            first=first,
        )
        expected = reference_prompt(conversation, message_id, history_size)
        if expected is None:
            assert picked is None
            skipped += 1
            continue
        assert picked is not None
        text, history = picked
        settings = PromptSettings(history_limit=history_size, language="ru")
        prompt = build_prompt(settings, history, (), (), text)
        assert tuple(f"{m.role}:{m.content}" for m in prompt.messages) == expected
        checked += 1
        bounded += read[0] < len([r for r in conversation if not r.is_internal])
    assert checked > 200 and skipped > 50  # both outcomes were exercised
    assert bounded > 100  # and most turns read only part of their conversation


async def test_the_prompt_shows_the_last_history_size_turns_and_the_read_stays_small(
    factory: Factory,
    worker: Worker,
    llm: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, history_size=2)
    for n in range(4):
        llm.script(OPENAI_PATH, answer("full_answer", f"Ответ {n}"))
        await factory.inbound(t, text=f"Вопрос {n}")
        await worker.run_until_idle()
    read: list[int] = []  # messages each read of the turn returned
    real_context, real_recent = conversations.turn_context, messages.recent

    async def turn_context(*args: Any) -> Any:
        found = await real_context(*args)
        read.append(len(found.recent))
        return found

    async def recent(*args: Any) -> list[tuple[int, str, str]]:
        rows = await real_recent(*args)
        read.append(len(rows))
        return rows

    monkeypatch.setattr(conversations, "turn_context", turn_context)
    monkeypatch.setattr(messages, "recent_unheld", recent)
    llm.script(OPENAI_PATH, answer("full_answer", "Ответ 4"))
    sent = await factory.inbound(t, text="Вопрос 4")
    await worker.run_until_idle()

    prompt = llm.requests_to(OPENAI_PATH)[-1].json()["messages"]
    assert [m["role"] for m in prompt] == ["system", "user", "assistant", "user"]
    assert "Вопрос 3" in prompt[1]["content"] and prompt[2]["content"] == "Ответ 3"
    assert "Вопрос 4" in prompt[3]["content"]
    c = await conversation(factory, t, sent["conversation_id"])
    assert len(c["messages"]) == 10
    assert len(read) == 1 and read[0] < 10  # one query, and not the whole conversation


# -- settings: decrypted once per stored version, never stale ------------------------------


def stored(chain: list[dict[str, Any]], secrets: str | None) -> dict[str, Any]:
    columns = {
        name: getattr(aisettings.AiRuntimeSettings(), name, None)
        for name in aisettings.RUNTIME_COLUMNS
    }
    columns.update(provider_chain=json.dumps(chain), secrets_encrypted=secrets)
    columns["escalation_keywords"] = []
    return columns


def test_runtime_settings_decrypt_once_per_stored_chain_and_hand_out_copies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = SecretBox([TEST_SECRET])
    calls: list[str] = []
    real = box.decrypt
    monkeypatch.setattr(box, "decrypt", lambda c: calls.append(c) or real(c))
    chain = [
        {
            "id": "e1",
            "kind": "openai_compatible",
            "model": "m",
            "config": {"base_url": "http://127.0.0.1:1/v1"},
        }
    ]
    first = box.encrypt(json.dumps({"e1": {"api_key": "k-1"}}))
    a = aisettings.runtime_settings(stored(chain, first), box)
    b = aisettings.runtime_settings(stored(chain, first), box)
    assert len(calls) == 1
    assert (
        a.chain[0].config
        == b.chain[0].config
        == {
            "base_url": "http://127.0.0.1:1/v1",
            "api_key": "k-1",
        }
    )
    assert a.chain[0].validated is not None  # validated once too (frozen, shared)
    a.chain[0].config["base_url"] = "changed by a caller"
    assert b.chain[0].config["base_url"] == "http://127.0.0.1:1/v1"
    assert aisettings.runtime_settings(stored(chain, first), box).chain[0].config["base_url"] == (
        "http://127.0.0.1:1/v1"
    )
    # new keys (a new ciphertext) or a new chain: read afresh
    second = box.encrypt(json.dumps({"e1": {"api_key": "k-2"}}))
    c = aisettings.runtime_settings(stored(chain, second), box)
    assert c.chain[0].config["api_key"] == "k-2" and len(calls) == 2
    other_chain = [{**chain[0], "model": "m-2"}]
    assert aisettings.runtime_settings(stored(other_chain, second), box).chain[0].model == "m-2"
    # another process's box (other keys) has its own cache
    assert aisettings.runtime_settings(None, box) == aisettings.AiRuntimeSettings()


async def test_a_settings_change_is_used_by_the_very_next_turn(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    base = f"{llm.base}/openai/v1"
    for n, key in enumerate(["key-one", "key-two"]):
        body = {
            "provider_chain": [
                {
                    "kind": "openai_compatible",
                    "model": f"m-{n}",
                    "config": {"base_url": base},
                    "api_key": key,
                }
            ]
        }
        r = await factory.client.put("/api/v1/ai/settings", headers=t.owner, json=body)
        assert r.status_code == 200, r.text
        llm.script(OPENAI_PATH, answer("full_answer", f"Ответ {n}"))
        await factory.inbound(t, text=f"Вопрос {n}")
        await worker.run_until_idle()
        request = llm.requests_to(OPENAI_PATH)[-1]
        assert request.json()["model"] == f"m-{n}"
        assert request.headers["authorization"] == f"Bearer {key}"


# -- the reply is delivered by the turn's own worker ---------------------------------------


async def delivery_jobs(services: Services) -> list[Job]:
    async with services.db.transaction() as s:
        stmt = select(Job).where(Job.kind == "message.deliver").order_by(Job.id)
        return list((await s.execute(stmt)).scalars())


async def ai_messages(services: Services) -> list[Message]:
    async with services.db.transaction() as s:
        stmt = select(Message).where(Message.sender_type == "ai").order_by(Message.id)
        return list((await s.execute(stmt)).scalars())


async def test_the_turns_worker_delivers_the_reply_right_after_its_commit(
    factory: Factory,
    services: Services,
    worker: Worker,
    llm: FakeLLMServer,
    callback: CallbackServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = await factory.tenant(ai=True, callback_url=callback.url)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    llm.script(OPENAI_PATH, answer("full_answer", "Тур стоит 45 000 ₽."))
    claimed: list[str] = []
    real_claim = queue.claim

    async def claim(*args: Any, **kwargs: Any) -> list[queue.ClaimedJob]:
        jobs = await real_claim(*args, **kwargs)
        claimed.extend(j.kind for j in jobs)
        return jobs

    monkeypatch.setattr(queue, "claim", claim)
    await factory.inbound(t, text="Сколько стоит тур?")

    assert await worker.run_until_idle() == 2  # the turn, then the delivery it held
    assert claimed == ["ai.reply"]  # the delivery was never claimed
    [request] = callback.received
    [reply] = await ai_messages(services)
    assert request.json()["text"] == "Тур стоит 45 000 ₽."
    assert request.headers["idempotency-key"] == f"deliver:{reply.id}"
    assert reply.delivery_status == DeliveryStatus.SENT.value
    [job] = await delivery_jobs(services)
    assert (job.status, job.attempts, job.locked_by) == (
        JobStatus.DONE.value,
        1,
        worker.worker_id,
    )


async def test_a_worker_lost_between_the_turn_and_the_delivery_still_delivers(
    factory: Factory,
    services: Services,
    llm: FakeLLMServer,
    callback: CallbackServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from frontline.app import build_worker

    t = await factory.tenant(ai=True, callback_url=callback.url)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    llm.script(OPENAI_PATH, answer("full_answer", "Тур стоит 45 000 ₽."))
    await factory.inbound(t, text="Сколько стоит тур?")
    doomed = build_worker(services)
    with monkeypatch.context() as m:
        # the process dies right after the turn's commit, before sending the reply
        m.setattr(JobContext, "take_held", lambda self: [])
        assert await doomed.run_until_idle() == 1
    [reply] = await ai_messages(services)
    assert reply.delivery_status == DeliveryStatus.QUEUED.value
    [job] = await delivery_jobs(services)
    assert (job.status, job.locked_by) == (JobStatus.RUNNING.value, doomed.worker_id)
    assert callback.received == []

    survivor = build_worker(services)
    assert await survivor.run_until_idle() == 0  # still leased to the lost worker
    async with services.db.transaction() as s:  # the lease runs out
        await s.execute(
            update(Job).where(Job.id == job.id).values(locked_until=utcnow().replace(year=2000))
        )
    assert await survivor.run_until_idle() == 1
    [request] = callback.received
    assert request.headers["idempotency-key"] == f"deliver:{reply.id}"
    assert request.json()["text"] == "Тур стоит 45 000 ₽."
    [job] = await delivery_jobs(services)
    assert (job.status, job.attempts, job.locked_by) == (
        JobStatus.DONE.value,
        2,
        survivor.worker_id,
    )
    [reply] = await ai_messages(services)
    assert reply.delivery_status == DeliveryStatus.SENT.value


async def test_an_operator_who_took_over_during_the_turn_silences_the_reply(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    """The conditional write that replaced ``SELECT ... FOR UPDATE``: the state is checked
    at the moment of writing, after the model answered."""
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    sent = await factory.inbound(t, text="Сколько стоит тур?")
    cid = sent["conversation_id"]
    real_decide = flows._decide

    async def decide_then_operator_takes_over(*args: Any) -> Any:
        result = await real_decide(*args)
        r = await factory.client.post(
            f"/api/v1/conversations/{cid}/assign",
            headers=t.operator,
            json={"assignee_id": str(t.operator_id)},
        )
        assert r.status_code == 200, r.text
        return result

    llm.script(OPENAI_PATH, answer("full_answer", "Тур стоит 45 000 ₽."))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(flows, "_decide", decide_then_operator_takes_over)
        await worker.run_until_idle()
    c = await conversation(factory, t, cid)
    assert c["status"] == "open"
    assert [m for m in c["messages"] if m["sender_type"] == "ai"] == []
    assert await delivery_jobs(services) == []
    async with services.db.transaction() as s:  # the AI log keeps the call all the same
        calls = list((await s.execute(select(AiCall).where(AiCall.tenant_id == t.id))).scalars())
        turn = (await s.execute(select(Job.status).where(Job.kind == "ai.reply"))).scalar_one()
    assert [c.decision for c in calls] == ["full_answer"]
    assert turn == JobStatus.DONE.value
