"""The Telegram webhook's database work per update, counted: a load-independent figure
for the ingest benchmark's Telegram row (timings on a shared machine are noise).

An update from a known chat costs what an API-channel message from a known contact costs:
one read of the context (duplicate? contact? conversation? tenant AI on? the contact's
recent messages for moderation's flood and repeat rules), the message insert and the
conversation's activity bump (one statement on PostgreSQL), and the transaction's own
BEGIN/COMMIT (the conversation waits for an operator here, as in the
benchmark: no AI job); a redelivery costs the read alone. On SQLite the activity bump rides
in the insert's trip to the driver thread (a deferred statement, not counted here; its
effect is checked), and the transaction's BEGIN IMMEDIATE in the context read's (see
tests/kit/test_core_transaction.py). The benchmark's bare endpoint is BEGIN, INSERT,
COMMIT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from frontline.deps import Services
from frontline.models import Conversation, Message
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import create_channel
from tests.channels.telegram.fakebot import FakeBotApi
from tests.conftest import Factory


@contextmanager
def counted(services: Services) -> Iterator[list[str]]:
    """The SQL statements (first word of each) sent while the block runs, with the
    transactions' COMMITs and ROLLBACKs."""
    engine = services.db.engine.sync_engine
    seen: list[str] = []

    def statement(_c: Any, _cur: Any, sql: str, *_args: Any) -> None:
        seen.append(sql.split(None, 1)[0].upper())

    def commit(_c: Any) -> None:
        seen.append("COMMIT")

    def rollback(_c: Any) -> None:
        seen.append("ROLLBACK")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


def _budget(services: Services, *, new_message: bool) -> list[str]:
    # asyncpg's BEGIN is no statement; SQLite's BEGIN IMMEDIATE goes with the context
    # read, in its trip to the driver thread (Database.core_transaction): not seen here
    begin: list[str] = []
    if not new_message:
        return [*begin, "SELECT", "COMMIT"]
    # PostgreSQL: the insert and the activity bump are one CTE; SQLite: the bump is a
    # deferred statement that runs in the insert's trip to the driver thread, without
    # SQLAlchemy's execution (so it is not seen here: the test below checks it happened)
    write = ["INSERT"] if services.db.is_sqlite else ["WITH"]
    # the context read, moderation's history of the contact included
    return [*begin, "SELECT", *write, "COMMIT"]


async def _spend(services: Services, send: Callable[[], Awaitable[int]]) -> list[str]:
    with counted(services) as seen:
        assert await send() in (200, 202)
    return seen


async def test_an_update_from_a_known_chat_costs_what_an_api_message_costs(
    factory: Factory, services: Services, bot: FakeBotApi
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    # first contact on both channels: the contact and the conversation are created
    assert (await channel.post(p.text_update(1, 11, "Здравствуйте"))).status_code == 200
    await factory.inbound(t, external_id="m-1", contact="cust-1")

    async def telegram(update_id: int, message_id: int) -> int:
        r = await channel.post(p.text_update(update_id, message_id, "Сколько стоит тур?"))
        return r.status_code

    async def api(external_id: str) -> int:
        r = await factory.client.post(
            f"/api/v1/channels/{t.api_channel_id}/messages",
            headers=t.api_channel,
            json={"external_id": external_id, "contact": {"external_id": "cust-1"}, "text": "Hi"},
        )
        return r.status_code

    new = _budget(services, new_message=True)
    assert await _spend(services, lambda: telegram(2, 12)) == new
    assert await _spend(services, lambda: api("m-2")) == new
    # the activity bump happened (on SQLite in the insert's trip): the conversation's last
    # activity is the new message's time, as stored by the column's own type
    async with services.db.reader() as s:
        created, activity = (
            await s.execute(
                select(Message.created_at, Conversation.last_activity_at)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.tenant_id == t.id, Message.external_id == "m-2")
            )
        ).one()
    assert activity == created
    # redeliveries: the context read finds the message, nothing is written
    again = _budget(services, new_message=False)
    assert await _spend(services, lambda: telegram(2, 12)) == again
    assert await _spend(services, lambda: api("m-2")) == again
