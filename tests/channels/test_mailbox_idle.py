"""IMAP IDLE on mailbox channels, against the private dovecot (which supports IDLE): a
message appended while the watcher idles is stored at once - the timed poll is an hour
away, so only the server's ``EXISTS`` can have brought it - and a server without IDLE, or
a channel with ``imap_idle`` off, is left to the timed poll, as its health says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from frontline.deps import Services
from frontline.mail.runner import MailPoller
from frontline.mail.service import PollReport
from tests.channels.mailservers import Dovecot, dovecot_server
from tests.channels.test_email import MailSink, smtp
from tests.channels.test_mailbox import mailbox_channel, plain_mail, status
from tests.conftest import Factory

__all__ = ["dovecot_server", "smtp"]  # fixtures used by name

# the timed poll never comes during a test: what arrives came by IDLE
NEVER = 3600.0
# a guard against a hang, not a measurement
GUARD = 60.0


@dataclass
class Polls:
    reports: asyncio.Queue[PollReport] = field(default_factory=asyncio.Queue)

    def __call__(self, report: PollReport) -> None:
        self.reports.put_nowait(report)

    async def until_stored(self) -> PollReport:
        while True:
            report = await asyncio.wait_for(self.reports.get(), GUARD)
            if report.stored:
                return report


@pytest.fixture
async def poller(services: Services) -> AsyncIterator[tuple[MailPoller, Polls]]:
    polls = Polls()
    mail = MailPoller(services.db, services.secret_box, NEVER, 50, on_poll=polls)
    try:
        yield mail, polls
    finally:
        await mail.close()


async def conversations(factory: Factory, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await factory.client.get("/api/v1/conversations", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_mail_appended_while_idling_arrives_at_once(
    factory: Factory,
    dovecot_server: Dovecot,
    smtp: MailSink,
    poller: tuple[MailPoller, Polls],
) -> None:
    mail, polls = poller
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    reports = await mail.round()  # the timed poll's one round: nothing there yet
    assert [r.stored for r in reports] == [0]
    _print, watcher, _task = mail.watchers[uuid.UUID(channel_id)]
    await asyncio.wait_for(watcher.idling.wait(), GUARD)
    assert (await status(factory, t, channel_id))["idle"] == "active"
    assert await conversations(factory, t.operator) == []

    raw, _msg_id = plain_mail("Есть ли места на субботу?", subject="Места")
    dovecot_server.append(user, raw)
    report = await polls.until_stored()
    assert (report.channel_id, report.stored, report.error) == (channel_id, 1, None)
    [conversation] = await conversations(factory, t.operator)
    assert conversation["subject"] == "Места"

    # the watcher idles again and takes the next one too
    await asyncio.wait_for(watcher.idling.wait(), GUARD)
    raw, _msg_id = plain_mail("И ещё вопрос про трансфер", subject="Трансфер")
    dovecot_server.append(user, raw)
    assert (await polls.until_stored()).stored == 1
    assert len(await conversations(factory, t.operator)) == 2
    health = await status(factory, t, channel_id)
    assert (health["stored"], health["idle"], health["idle_error"]) == (2, "active", None)


async def test_mail_that_came_before_idle_is_taken_when_the_watcher_starts(
    factory: Factory,
    dovecot_server: Dovecot,
    smtp: MailSink,
    poller: tuple[MailPoller, Polls],
) -> None:
    """A message that arrives between a poll and the IDLE command announces no EXISTS on
    the watcher's fresh connection: the watcher polls once before idling."""
    mail, polls = poller
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    mail.idle = False
    await mail.round()  # synchronised, no watcher
    assert mail.watchers == {}
    dovecot_server.append(user, plain_mail("Пришло до IDLE", subject="До")[0])
    mail.idle = True
    await mail._sync_watchers(await _runtimes(mail))
    report = await polls.until_stored()
    assert report.channel_id == channel_id


async def test_a_new_mailbox_idles_without_waiting_for_the_next_poll(
    factory: Factory,
    services: Services,
    dovecot_server: Dovecot,
    smtp: MailSink,
) -> None:
    """The loop follows the channels between its (hourly, here) polls: a mailbox created
    while it runs gets its watcher, and its mail arrives by IDLE."""
    polls = Polls()
    mail = MailPoller(
        services.db, services.secret_box, NEVER, 50, on_poll=polls, watch_seconds=0.05
    )
    task = asyncio.create_task(mail.run())
    try:
        t = await factory.tenant()
        user = dovecot_server.add_user()
        channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
        # the watcher's first act is a poll of its mailbox
        first = await asyncio.wait_for(polls.reports.get(), GUARD)
        assert first.channel_id == channel_id
        _print, watcher, _task = mail.watchers[uuid.UUID(channel_id)]
        await asyncio.wait_for(watcher.idling.wait(), GUARD)
        dovecot_server.append(user, plain_mail("Новый ящик, новое письмо")[0])
        assert (await polls.until_stored()).channel_id == channel_id
    finally:
        mail.stop()
        await asyncio.wait_for(task, GUARD)
    assert mail.watchers == {}


async def _runtimes(mail: MailPoller) -> list[Any]:
    from frontline.mail.service import mailbox_runtimes

    return await mailbox_runtimes(mail.db, mail.box)


async def test_idle_switched_off_leaves_the_mailbox_to_the_timed_poll(
    factory: Factory,
    dovecot_server: Dovecot,
    smtp: MailSink,
    poller: tuple[MailPoller, Polls],
) -> None:
    mail, _polls = poller
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port, imap_idle=False)
    dovecot_server.append(user, plain_mail("Опрос по расписанию")[0])
    [report] = await mail.round()
    assert report.stored == 1
    assert mail.watchers == {}
    assert (await status(factory, t, channel_id))["idle"] == "off"


# --- a server without IDLE -------------------------------------------------------------------


class NoIdleImap:
    """A minimal IMAP4rev1 server (RFC 3501) that does not offer IDLE: an empty INBOX."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake IMAP ready\r\n")
        while line := await reader.readline():
            tag, _sp, rest = line.decode().strip().partition(" ")
            command = rest.split(" ", 1)[0].upper()
            if command == "UID":
                command = "UID " + rest.split(" ")[1].upper()
            self.commands.append(command)
            replies = {
                "CAPABILITY": "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
                "LOGIN": "",
                "SELECT": "* 0 EXISTS\r\n* OK [UIDVALIDITY 77] ok\r\n* OK [UIDNEXT 1] ok\r\n",
                "UID SEARCH": "* SEARCH\r\n",
                "LOGOUT": "* BYE bye\r\n",
            }
            if command in replies:
                writer.write(f"{replies[command]}{tag} OK {command} done\r\n".encode())
            else:
                writer.write(f"{tag} BAD unknown command\r\n".encode())
            await writer.drain()
            if command == "LOGOUT":
                break
        writer.close()


async def test_a_server_without_idle_is_polled(
    factory: Factory, smtp: MailSink, poller: tuple[MailPoller, Polls]
) -> None:
    mail, _polls = poller
    fake = NoIdleImap()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        t = await factory.tenant()
        r = await factory.client.post(
            "/api/v1/channels",
            headers=t.owner,
            json={
                "type": "mailbox",
                "name": "Old server",
                "config": {
                    "from_address": "support@tours.example.com",
                    "imap_host": "127.0.0.1",
                    "imap_port": port,
                    "imap_security": "none",
                    "imap_username": "support",
                    "imap_password": "secret",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp.port,
                },
            },
        )
        assert r.status_code == 201, r.text
        channel_id = r.json()["id"]
        [report] = await mail.round()
        assert report.error is None
        _print, watcher, task = mail.watchers[uuid.UUID(channel_id)]
        await asyncio.wait_for(task, GUARD)
        assert watcher.unsupported
        assert "IDLE" not in fake.commands
        health = await status(factory, t, channel_id)
        assert (health["idle"], health["healthy"]) == ("unsupported", True), health
        # the next round keeps polling it and does not start the watcher again
        await mail.round()
        assert mail.watchers[uuid.UUID(channel_id)][1] is watcher
    finally:
        server.close()
        await server.wait_closed()
