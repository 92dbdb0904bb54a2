"""Mailbox channel: a real mailbox, read over IMAP, answered over SMTP.

The business connects the support address it already has (Gmail, Yandex, its own server):
a poller (:mod:`frontline.mail`) fetches new mail by UID from one IMAP folder, parses it
(:mod:`frontline.channels.email.mime`) and stores it through the inbound pipeline; replies
go out by SMTP exactly as on the e-mail channel (Message-ID, In-Reply-To, References), so
the customer's mail client threads them.

There is no webhook: :meth:`MailboxChannelAdapter.verify_and_parse` refuses every request.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, SecretStr

from frontline.channels.base import BadRequest, ChannelType, InboundMessage, InboundRequest
from frontline.channels.email.adapter import EmailChannelAdapter, EmailChannelConfig
from frontline.channels.email.imap import ImapSettings

IMAP_DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}


class MailboxChannelConfig(EmailChannelConfig):
    """IMAP in (``imap_*``) and SMTP out (``smtp_*``, as on the e-mail channel).

    ``imap_port`` defaults by ``imap_security``: 993 for ``tls``, 143 otherwise.
    """

    model_config = ConfigDict(extra="forbid")

    imap_host: str = Field(min_length=1, max_length=255)
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Literal["tls", "starttls", "none"] = "tls"
    imap_username: str = Field(min_length=1, max_length=320)
    imap_password: SecretStr
    imap_folder: str = Field(default="INBOX", min_length=1, max_length=255)
    imap_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # set \\Seen on each message once it is stored, so people reading the mailbox see
    # what Frontline has taken
    mark_seen: bool = True
    # on the first connection (and when the folder's UIDVALIDITY changes): take the unseen
    # mail already there ("unseen") or only mail that arrives from now on ("new")
    initial_sync: Literal["unseen", "new"] = "unseen"
    # wait for new mail with IMAP IDLE where the server supports it (it arrives within a
    # second); without IDLE, or switched off, the folder is polled every
    # FRONTLINE_MAIL_POLL_SECONDS
    imap_idle: bool = True
    # a larger message is stored as a note with its sender and subject, not downloaded
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)

    def imap_settings(self) -> ImapSettings:
        return ImapSettings(
            host=self.imap_host,
            port=self.imap_port or IMAP_DEFAULT_PORTS[self.imap_security],
            security=self.imap_security,
            username=self.imap_username,
            password=self.imap_password.get_secret_value(),
            folder=self.imap_folder,
            timeout=self.imap_timeout_seconds,
        )


class MailboxChannelAdapter(EmailChannelAdapter):
    """SMTP out through the e-mail adapter; inbound comes from the IMAP poller only."""

    type: ClassVar[ChannelType] = ChannelType.MAILBOX
    # no idempotency key at the provider: an interrupted send becomes ``unknown``
    resend_is_idempotent: ClassVar[bool] = False

    def __init__(self, config: MailboxChannelConfig) -> None:
        super().__init__(config, secret="", tolerance_seconds=0)
        self.config = config

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        raise BadRequest("a mailbox channel receives mail over IMAP, not by webhook")
