from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class PollReportOut(BaseModel):
    """What one poll did."""

    fetched: int
    stored: int
    duplicates: int
    skipped: int
    resynchronised: bool
    error: str | None


class MailboxStatus(BaseModel):
    """A mailbox channel's health and position (``null`` before its first poll)."""

    channel_id: uuid.UUID
    healthy: bool | None  # None: never polled
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_report: PollReportOut | None = None
    uidvalidity: int | None = None
    last_uid: int | None = None
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    bounces: int = 0  # our e-mails reported undeliverable (their messages show failed)
    last_skip: str | None = None
    resyncs: int = 0
    # IMAP IDLE: "active" (new mail arrives at once), "unsupported" (the server has no
    # IDLE: polled), "off" (switched off in the channel), "error" (see idle_error; polled
    # meanwhile), null before the worker first connected
    idle: str | None = None
    idle_error: str | None = None
    idle_since: datetime | None = None


class PollQueued(BaseModel):
    channel_id: uuid.UUID
    job_id: int
