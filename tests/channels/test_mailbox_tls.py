"""Mailbox channels over TLS (993-style) and STARTTLS (143-style) against the private
dovecot, whose self-signed certificate the client trusts only when told (``SSL_CERT_FILE``)."""

from __future__ import annotations

import pytest

from frontline.jobs.worker import Worker
from tests.channels.mailservers import Dovecot, dovecot_server
from tests.channels.test_email import MailSink, smtp
from tests.channels.test_mailbox import all_customer_messages, mailbox_channel, plain_mail, poll
from tests.conftest import Factory

__all__ = ["dovecot_server", "smtp"]


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls(
    factory: Factory,
    worker: Worker,
    dovecot_server: Dovecot,
    smtp: MailSink,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_server.certificate))
    t = await factory.tenant()
    user = dovecot_server.add_user()
    port = dovecot_server.tls_port if security == "tls" else dovecot_server.port
    channel_id = await mailbox_channel(
        factory, t, dovecot_server, user, smtp.port, imap_security=security, imap_port=port
    )
    dovecot_server.append(user, plain_mail(f"по {security}")[0])
    report = await poll(factory, t, channel_id, worker)
    assert (report["stored"], report["error"]) == (1, None)
    assert [m["text"] for m in await all_customer_messages(factory, t)] == [f"по {security}"]


@pytest.mark.parametrize(("security", "failure"), [("tls", "TLS"), ("starttls", "STARTTLS")])
async def test_an_untrusted_certificate_is_refused_and_reported(
    factory: Factory,
    worker: Worker,
    dovecot_server: Dovecot,
    smtp: MailSink,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
    failure: str,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(
        factory,
        t,
        dovecot_server,
        user,
        smtp.port,
        imap_security=security,
        imap_port=dovecot_server.tls_port if security == "tls" else dovecot_server.port,
    )
    dovecot_server.append(user, plain_mail("не должно прийти")[0])
    report = await poll(factory, t, channel_id, worker)
    assert report["stored"] == 0
    assert report["error"].startswith("Unavailable: IMAP 127.0.0.1")
    assert f"{failure} failed" in report["error"]
    assert "CERTIFICATE_VERIFY_FAILED" in report["error"]
    assert await all_customer_messages(factory, t) == []
