"""The IMAP poller: new mail of each mailbox channel into the inbound pipeline, exactly once.

What a mailbox remembers lives in its channel's state row (``channel_states``):

- ``uidvalidity``: the folder's UIDVALIDITY when its UIDs were last trusted;
- ``last_uid``: the highest UID taken (stored, skipped or found gone);
- ``floor``: the highest UID that existed when the mailbox was (re)synchronised; mail up
  to it is taken only while unseen (a first connection does not import years of read
  mail), mail after it always;
- the health: ``last_poll_at``, ``last_success_at``, ``last_error``, ``last_error_at``,
  and counters.

Each message is stored in its own transaction together with ``last_uid``, with the state
row locked (PostgreSQL), so a crash, a restart or a second poller never stores a message
twice: it either committed with its UID or not at all. The Message-ID is also the
message's unique external id, which catches the rest (a UIDVALIDITY change re-offers old
mail under new UIDs). Network and login trouble are recorded on the channel, never raised
to the caller's loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from frontline.channels import service as channels
from frontline.channels.base import ChannelError, ChannelType
from frontline.channels.email.imap import ImapMailbox
from frontline.channels.email.mailbox import MailboxChannelConfig
from frontline.channels.email.mime import ParsedMail, parse_mail
from frontline.conversations.flows import INGEST_ATTEMPTS, receive_inbound
from frontline.conversations.limits import Admit, InboundLimits, OverLimit
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.metrics import inbound_messages
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.messages import service as messages
from frontline.models import DeliveryStatus

log = logging.getLogger(__name__)

DEFAULT_BATCH = 50


@dataclass
class PollReport:
    """What one poll of one mailbox did."""

    channel_id: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    resynchronised: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return utcnow().isoformat()


async def _update_state(
    db: Database, scope: TenantScope, channel_id: uuid.UUID, **changes: Any
) -> dict[str, Any]:
    async with db.transaction() as session:
        state = await channels.load_state(session, scope, channel_id, for_update=True)
        state.update(changes)
        await channels.save_state(session, scope, channel_id, state)
    return state


async def _update_state_retrying(
    db: Database, scope: TenantScope, channel_id: uuid.UUID, **changes: Any
) -> dict[str, Any]:
    """:func:`_update_state`; the first write of a new row may race another poller's."""
    for attempt in range(1, INGEST_ATTEMPTS + 1):
        try:
            return await _update_state(db, scope, channel_id, **changes)
        except IntegrityError:
            if attempt == INGEST_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _store(
    db: Database,
    scope: TenantScope,
    channel_id: uuid.UUID,
    uidvalidity: int,
    uid: int,
    parsed: ParsedMail,
    limits: InboundLimits | None = None,
) -> str:
    """Store one fetched message and move ``last_uid`` past it, in one transaction.
    Returns ``stored``, ``duplicate``, ``skipped`` or ``taken`` (another poller was first).

    Over the inbound rate limits the mail is still stored, without an AI turn. A mail is
    counted against the limits once, when it is really new: not when another poller took
    it first or it is already stored (a UIDVALIDITY change re-offers old mail), and not
    again when the transaction is retried - else racing pollers would use up a customer's
    limit several times over for the same mails."""
    admit: Admit | None = None
    if limits is not None:
        admit = limits.admit_once(
            scope.tenant_id, channel_id, ChannelType.MAILBOX.value, OverLimit.STORE
        )

    for attempt in range(1, INGEST_ATTEMPTS + 1):
        try:
            async with db.transaction() as session:
                state = await channels.load_state(session, scope, channel_id, for_update=True)
                if state.get("uidvalidity") == uidvalidity and int(state.get("last_uid", 0)) >= uid:
                    return "taken"
                outcome = "skipped"
                if parsed.message is not None:
                    result = await receive_inbound(
                        session,
                        scope,
                        channel_id,
                        parsed.message,
                        admit=admit,
                    )
                    outcome = "duplicate" if result.duplicate else "stored"
                else:
                    state["last_skip"] = f"UID {uid}: {parsed.skip}"
                if parsed.bounce is not None and await messages.apply_delivery_report(
                    session,
                    scope,
                    channel_id,
                    parsed.bounce.message_id,
                    DeliveryStatus.FAILED.value,
                    reason=f"bounced: {parsed.bounce.reason}",
                ):
                    state["bounces"] = int(state.get("bounces", 0)) + 1
                counter = {"stored": "stored", "duplicate": "duplicates"}.get(outcome, "skipped")
                state[counter] = int(state.get(counter, 0)) + 1
                state.update(uidvalidity=uidvalidity, last_uid=uid)
                await channels.save_state(session, scope, channel_id, state)
            if outcome != "skipped":
                inbound_messages.labels(
                    ChannelType.MAILBOX.value, str(outcome != "stored").lower()
                ).inc()
            return outcome
        except IntegrityError:
            if attempt == INGEST_ATTEMPTS:
                raise
            log.info("mailbox store race lost, retrying", extra={"attempt": attempt})
    raise AssertionError("unreachable")


async def _sync_plan(
    db: Database,
    scope: TenantScope,
    channel_id: uuid.UUID,
    mailbox: ImapMailbox,
    config: MailboxChannelConfig,
    report: PollReport,
) -> list[int]:
    """The UIDs to take now, ascending; (re)synchronises when UIDVALIDITY is new."""
    async with db.reader() as session:
        state = await channels.load_state(session, scope, channel_id)
    validity = mailbox.uidvalidity
    if state.get("uidvalidity") != validity:
        # first connection, or the folder was recreated: every old UID is void
        floor = await asyncio.to_thread(mailbox.highest_uid)
        last = 0 if config.initial_sync == "unseen" else floor
        report.resynchronised = "uidvalidity" in state
        resyncs = int(state.get("resyncs", 0)) + (1 if report.resynchronised else 0)
        state = await _update_state_retrying(
            db, scope, channel_id, uidvalidity=validity, last_uid=last, floor=floor, resyncs=resyncs
        )
    last = int(state.get("last_uid", 0))
    floor = int(state.get("floor", 0))
    uids: list[int] = []
    if last < floor:
        unseen = await asyncio.to_thread(mailbox.unseen_uids)
        uids = [u for u in unseen if last < u <= floor]
    uids += await asyncio.to_thread(mailbox.uids_after, max(last, floor))
    return sorted(set(uids))


GONE = "gone before it was fetched"
# polls that may fail on one mail before it is skipped (noted in ``last_skip``)
MAX_STORE_ATTEMPTS = 3


async def _failed_attempt(
    db: Database, scope: TenantScope, channel_id: uuid.UUID, uidvalidity: int, uid: int
) -> bool:
    """Count a failed attempt to store ``uid``; True once it has failed too often."""
    async with db.reader() as session:
        state = await channels.load_state(session, scope, channel_id)
    failing = state.get("failing") or {}
    key = f"{uidvalidity}:{uid}"
    attempts = int(failing.get(key, 0)) + 1
    await _update_state_retrying(db, scope, channel_id, failing={key: attempts})
    return attempts >= MAX_STORE_ATTEMPTS


async def _fetch(mailbox: ImapMailbox, uid: int, config: MailboxChannelConfig) -> ParsedMail:
    """One message, parsed; over ``max_message_bytes`` only its header is downloaded."""
    size = await asyncio.to_thread(mailbox.size, uid)
    too_large = size if size is not None and size > config.max_message_bytes else None
    raw = (
        await asyncio.to_thread(mailbox.fetch, uid, headers_only=too_large is not None)
        if size is not None
        else None
    )
    if raw is None:
        return ParsedMail(None, GONE)
    return parse_mail(raw, str(config.from_address), too_large=too_large)


async def poll_channel(
    db: Database,
    runtime: channels.ChannelRuntime,
    batch: int = DEFAULT_BATCH,
    limits: InboundLimits | None = None,
) -> PollReport:
    """Take up to ``batch`` new messages from one mailbox; errors are recorded on the
    channel (its health) and in the report."""
    report = PollReport(channel_id=str(runtime.id))
    scope = TenantScope(runtime.tenant_id)
    config = MailboxChannelConfig.model_validate(runtime.config)
    mailbox = ImapMailbox(config.imap_settings())
    try:
        await asyncio.to_thread(mailbox.open)
        uids = (await _sync_plan(db, scope, runtime.id, mailbox, config, report))[:batch]
        for uid in uids:
            parsed = await _fetch(mailbox, uid, config)
            report.fetched += parsed.skip != GONE
            try:
                outcome = await _store(
                    db, scope, runtime.id, mailbox.uidvalidity, uid, parsed, limits
                )
            except ChannelError:
                raise
            except Exception as exc:  # one unstorable mail must not block the mailbox
                log.exception("storing a mail failed", extra={"channel_id": str(runtime.id)})
                given_up = await _failed_attempt(db, scope, runtime.id, mailbox.uidvalidity, uid)
                if not given_up:
                    raise ChannelError(f"UID {uid} could not be stored: {exc!r}") from exc
                reason = f"could not be stored after {MAX_STORE_ATTEMPTS} attempts: {exc!r}"
                outcome = await _store(
                    db, scope, runtime.id, mailbox.uidvalidity, uid, ParsedMail(None, reason)
                )
            if outcome == "stored":
                report.stored += 1
            elif outcome == "duplicate":
                report.duplicates += 1
            elif outcome == "skipped":
                report.skipped += 1
            if outcome in ("stored", "duplicate") and config.mark_seen:
                await asyncio.to_thread(mailbox.mark_seen, uid)
    except ChannelError as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "mailbox poll failed", extra={"channel_id": str(runtime.id), "error": report.error}
        )
    finally:
        await asyncio.to_thread(mailbox.close)
    now = _now()
    health: dict[str, Any] = {"last_poll_at": now, "last_report": report.as_dict()}
    if report.error:
        health.update(last_error=report.error[:1000], last_error_at=now)
    else:
        health.update(last_success_at=now, last_error=None)
    await _update_state_retrying(db, scope, runtime.id, **health)
    return report


async def poll_all(
    db: Database,
    box: SecretBox,
    batch: int = DEFAULT_BATCH,
    channel_id: uuid.UUID | None = None,
    limits: InboundLimits | None = None,
) -> list[PollReport]:
    """Poll every active mailbox channel of every tenant (or the one ``channel_id``)."""
    async with db.reader() as session:
        runtimes = await channels.active_runtimes(session, box, ChannelType.MAILBOX)
    reports = []
    for runtime in runtimes:
        if channel_id is None or runtime.id == channel_id:
            reports.append(await poll_channel(db, runtime, batch, limits))
    return reports


async def record_idle(
    db: Database, scope: TenantScope, channel_id: uuid.UUID, idle: str, error: str | None = None
) -> None:
    """Note the mailbox's IDLE state in its health (``GET /channels/{id}/mailbox``)."""
    changes: dict[str, Any] = {"idle": idle, "idle_error": error[:1000] if error else None}
    if idle == "active":
        changes["idle_since"] = _now()
    await _update_state_retrying(db, scope, channel_id, **changes)


async def mailbox_runtimes(db: Database, box: SecretBox) -> list[channels.ChannelRuntime]:
    """Every tenant's active mailbox channels, decrypted."""
    async with db.reader() as session:
        return await channels.active_runtimes(session, box, ChannelType.MAILBOX)


async def status(db: Database, scope: TenantScope, channel_id: uuid.UUID) -> dict[str, Any]:
    """A mailbox channel's remembered state and health."""
    async with db.reader() as session:
        return await channels.load_state(session, scope, channel_id)
