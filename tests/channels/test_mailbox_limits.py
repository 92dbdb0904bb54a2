"""A customer flooding a mailbox channel: every mail is stored exactly once, but the AI is
asked to answer only as many a minute as the per-contact (and per-tenant) inbound limits
allow; the rest are marked ``meta.rate_limited`` for the operators
(frontline.conversations.limits). Real dovecot, polled through the product's own poll job,
as in test_mailbox.py."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import func, select

from frontline import events
from frontline.channels import service as channels
from frontline.conversations.limits import WINDOW_SECONDS
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.mail.service import poll_channel
from frontline.models import Job
from frontline.settings import Settings
from tests.channels.mailservers import Dovecot, dovecot_server
from tests.channels.test_email import MailSink, smtp
from tests.channels.test_mailbox import all_customer_messages, mailbox_channel, plain_mail, poll
from tests.conftest import Factory

pytestmark = pytest.mark.usefixtures("fresh_rate_window")

__all__ = ["dovecot_server", "smtp"]  # fixtures used by name

CONTACT_LIMIT = 3
TENANT_LIMIT = 5
# a flood below moderation's own flood rule (8 mails in 30 s), so only the rate limit acts
FLOOD = CONTACT_LIMIT + 2
FLOODER = "flood@customer.example.ru"
QUESTIONS = [
    "Сколько стоит тур в Карелию на выходные?",
    "Can I bring my dog on the Altai trip?",
    "Есть ли места на сплав в августе?",
    "Do you offer a student discount for groups?",
    "Какие документы нужны для поездки в Абхазию?",
    "Is breakfast included at the Baikal guesthouse?",
    "Можно ли перенести даты бронирования на неделю?",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "inbound_contact_messages_per_minute": CONTACT_LIMIT,
            "inbound_tenant_messages_per_minute": TENANT_LIMIT,
        }
    )


async def one_window(needed: float = 20.0) -> None:
    """The limits count in fixed wall-clock minutes: start the flood early in one, so a
    slow machine does not see the counts reset half-way."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < needed:
        await asyncio.sleep(left + 0.05)


async def ai_turns(factory: Factory) -> int:
    async with factory.services.db.reader() as s:
        count = await s.execute(
            select(func.count()).select_from(Job).where(Job.kind == events.JOB_AI_REPLY)
        )
    return int(count.scalar_one())


async def test_a_flood_in_one_poll_is_stored_once_and_answered_within_the_contact_limit(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant(ai=True)
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    flood = [plain_mail(QUESTIONS[i], subject=f"Вопрос {i}", sender=FLOODER) for i in range(FLOOD)]
    for raw, _ in flood:
        dovecot_server.append(user, raw)
    # another customer's mail in the same poll: the per-contact limit is not theirs
    other, other_id = plain_mail("Здравствуйте, хочу забронировать тур", name="Анна")
    dovecot_server.append(user, other)
    await one_window()

    report = await poll(factory, t, channel_id, worker)
    assert (report["fetched"], report["stored"], report["duplicates"], report["error"]) == (
        FLOOD + 1,
        FLOOD + 1,
        0,
        None,
    )
    stored = await all_customer_messages(factory, t)
    assert [m["external_id"] for m in stored] == [mid for _, mid in flood] + [other_id]
    marks = [m["meta"].get("rate_limited") for m in stored]
    assert marks == [None] * CONTACT_LIMIT + ["contact"] * (FLOOD - CONTACT_LIMIT) + [None]
    assert not [m for m in stored if "moderation" in m["meta"]]  # the limit acted, not moderation
    assert await ai_turns(factory) == CONTACT_LIMIT + 1

    # the next poll of the same mailbox: nothing new, nothing stored twice, no new AI turn
    again = await poll(factory, t, channel_id, worker)
    assert (again["fetched"], again["stored"], again["duplicates"], again["error"]) == (
        0,
        0,
        0,
        None,
    )
    assert len(await all_customer_messages(factory, t)) == FLOOD + 1
    assert await ai_turns(factory) == CONTACT_LIMIT + 1

    # the flood goes on within the minute: the new mail alone is stored, still unanswered
    late, late_id = plain_mail(QUESTIONS[FLOOD], subject="Ещё вопрос", sender=FLOODER)
    dovecot_server.append(user, late)
    third = await poll(factory, t, channel_id, worker)
    assert (third["fetched"], third["stored"], third["duplicates"]) == (1, 1, 0)
    stored = await all_customer_messages(factory, t)
    assert [m["external_id"] for m in stored].count(late_id) == 1
    assert len(stored) == FLOOD + 2
    assert stored[-1]["external_id"] == late_id
    assert stored[-1]["meta"].get("rate_limited") == "contact"
    assert await ai_turns(factory) == CONTACT_LIMIT + 1

    health = (
        await factory.client.get(f"/api/v1/channels/{channel_id}/mailbox", headers=t.owner)
    ).json()
    assert health["stored"] == FLOOD + 2 and health.get("duplicates", 0) == 0


async def test_many_senders_in_one_poll_are_answered_within_the_tenant_limit(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant(ai=True)
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    senders = TENANT_LIMIT + 2
    ids = []
    for i in range(senders):
        raw, mid = plain_mail(
            QUESTIONS[i], subject=f"Тур {i}", sender=f"guest{i}@customer.example.ru"
        )
        dovecot_server.append(user, raw)
        ids.append(mid)
    await one_window()

    report = await poll(factory, t, channel_id, worker)
    assert (report["stored"], report["duplicates"], report["error"]) == (senders, 0, None)
    stored = await all_customer_messages(factory, t)
    assert [m["external_id"] for m in stored] == ids
    marks = [m["meta"].get("rate_limited") for m in stored]
    assert marks == [None] * TENANT_LIMIT + ["tenant"] * (senders - TENANT_LIMIT)
    assert await ai_turns(factory) == TENANT_LIMIT

    again = await poll(factory, t, channel_id, worker)
    assert (again["fetched"], again["stored"], again["error"]) == (0, 0, None)
    assert len(await all_customer_messages(factory, t)) == senders
    assert await ai_turns(factory) == TENANT_LIMIT


async def test_concurrent_pollers_count_each_mail_once_against_the_limit(
    factory: Factory, services: Services, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    """Pollers racing on one mailbox (the IDLE watcher, the poll loop, a manual poll): a
    mail another poller took first is not counted again, so the flooder still gets exactly
    the limit's AI turns - not a third of them."""
    t = await factory.tenant(ai=True)
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    flood = [plain_mail(QUESTIONS[i], subject=f"Вопрос {i}", sender=FLOODER) for i in range(FLOOD)]
    for raw, _ in flood:
        dovecot_server.append(user, raw)
    async with services.db.reader() as session:
        runtime = await channels.runtime_for(
            session, TenantScope(t.id), services.secret_box, uuid.UUID(channel_id)
        )
    await one_window()
    limits = services.inbound_limits
    reports = await asyncio.gather(
        *(poll_channel(services.db, runtime, limits=limits) for _ in range(3))
    )
    assert [r.error for r in reports] == [None] * 3
    assert sum(r.stored for r in reports) == FLOOD
    stored = await all_customer_messages(factory, t)
    assert [m["external_id"] for m in stored] == [mid for _, mid in flood]
    marks = [m["meta"].get("rate_limited") for m in stored]
    assert marks == [None] * CONTACT_LIMIT + ["contact"] * (FLOOD - CONTACT_LIMIT)
    assert await ai_turns(factory) == CONTACT_LIMIT


async def test_mail_offered_again_after_a_uidvalidity_change_is_not_counted_again(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    """A rebuilt folder re-offers unread old mail under new UIDs: it is found stored (a
    duplicate) and must not use up the sender's limit, or their next real mail in the same
    minute would go unanswered."""
    t = await factory.tenant(ai=True)
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port, mark_seen=False)
    first = [
        plain_mail(QUESTIONS[i], subject=f"Вопрос {i}", sender=FLOODER)
        for i in range(CONTACT_LIMIT - 1)
    ]
    for raw, _ in first:
        dovecot_server.append(user, raw)
    await one_window()
    assert (await poll(factory, t, channel_id, worker))["stored"] == CONTACT_LIMIT - 1
    dovecot_server.set_uidvalidity(user, dovecot_server.uidvalidity(user) + 1000)
    new, new_id = plain_mail(QUESTIONS[CONTACT_LIMIT], subject="Новый вопрос", sender=FLOODER)
    dovecot_server.append(user, new)

    report = await poll(factory, t, channel_id, worker)
    assert report["resynchronised"] is True and report["error"] is None
    assert (report["stored"], report["duplicates"]) == (1, CONTACT_LIMIT - 1)
    stored = await all_customer_messages(factory, t)
    assert [m["external_id"] for m in stored] == [mid for _, mid in first] + [new_id]
    assert [m["meta"].get("rate_limited") for m in stored] == [None] * CONTACT_LIMIT
    assert await ai_turns(factory) == CONTACT_LIMIT
