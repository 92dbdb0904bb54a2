"""Recording, fetching and serving attachments.

Inbound files are recorded by the inbound path (:func:`record_inbound`, inside the
transaction that stores the message): inline bytes are written to the store *before* their
row is inserted, under a content-addressed key (tenant and SHA-256), so a transaction that
rolls back leaves at most an orphan blob, never a row without its blob. A file that is still
at the provider gets a ``pending`` row and an ``attachments.fetch`` job (:func:`fetch`),
which downloads it through the channel's adapter when the adapter implements
:class:`~frontline.channels.base.AttachmentFetcher`; a final failure is recorded on the row.
A file over the size limit is recorded as failed ("too large"); the message is kept.

The process's store and limits reach the services through the session's ``info``
(:class:`AttachmentRuntime`), as the realtime broker does.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.attachments.links import LinkSigner
from frontline.attachments.repository import AttachmentRepository
from frontline.attachments.schemas import AttachmentOut, attachment_out
from frontline.attachments.sniff import sniff
from frontline.attachments.storage.base import AttachmentStore, StorageError
from frontline.channels import service as channels
from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    ChannelError,
    InboundAttachment,
    RateLimited,
)
from frontline.channels.registry import AdapterOptions, build_adapter
from frontline.errors import NotFound, PayloadTooLarge, Unprocessable
from frontline.jobs import queue
from frontline.jobs.registry import JobContext
from frontline.jobs.retry import RetryAfter
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.messages import service as messages
from frontline.messages.schemas import MessageOut
from frontline.models import Attachment, AttachmentStatus
from frontline.realtime.publish import publish_after_commit

log = logging.getLogger(__name__)

RUNTIME_KEY = "frontline.attachments"
TOO_LARGE = "too large"
MAX_FILENAME = 255


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_per_message: int = MAX_ATTACHMENTS_PER_MESSAGE
    url_ttl_seconds: int = 3600


@dataclass(frozen=True)
class AttachmentRuntime:
    """What the services need of the process: the store, the limits, the link signer."""

    store: AttachmentStore
    limits: AttachmentLimits
    links: LinkSigner

    def session_info(self) -> dict[str, Any]:
        """Session ``info`` through which the inbound path finds this runtime."""
        return {RUNTIME_KEY: self}


def runtime_of(session: AsyncSession) -> AttachmentRuntime:
    found: AttachmentRuntime | None = session.info.get(RUNTIME_KEY)
    if found is None:
        raise RuntimeError("no attachment store configured for this database's sessions")
    return found


def storage_key(scope: TenantScope, sha256: str) -> str:
    """Content addressed, per tenant (so a tenant's files can be removed as a whole)."""
    return f"{scope.tenant_id.hex}/{sha256[:2]}/{sha256}"


def clean_filename(name: str | None, fallback: str = "file") -> str:
    """A display name without path parts or control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().strip(".")
    return (base or fallback)[:MAX_FILENAME]


async def _stored_values(
    runtime: AttachmentRuntime, scope: TenantScope, data: bytes
) -> dict[str, Any]:
    """Write ``data`` to the store; the row's columns that describe it."""
    digest = hashlib.sha256(data).hexdigest()
    content_type = sniff(data).content_type
    key = storage_key(scope, digest)
    await runtime.store.put(key, data, content_type)
    return {
        "content_type": content_type,
        "size": len(data),
        "sha256": digest,
        "storage_key": key,
        "status": AttachmentStatus.STORED.value,
        "failure_reason": None,
        "provider_ref": None,
    }


def _failed(reason: str) -> dict[str, Any]:
    return {"status": AttachmentStatus.FAILED.value, "failure_reason": reason[:500]}


async def record_inbound(
    session: AsyncSession,
    scope: TenantScope,
    *,
    channel_id: uuid.UUID,
    conversation_id: int,
    message_id: int,
    files: Sequence[InboundAttachment],
    uploads: Sequence[int] = (),
    uploader: str | None = None,
) -> list[dict[str, Any]]:
    """Record a customer message's files (see the module docstring); returns them as the
    message's JSON carries them. ``uploads``: widget uploads of ``uploader`` sent with it."""
    runtime = runtime_of(session)
    repo = AttachmentRepository(session, scope)
    rows: list[Attachment] = []
    for index, file in enumerate(files):
        values: dict[str, Any] = {
            "channel_id": channel_id,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "filename": clean_filename(file.filename),
            "content_type": (file.content_type or "application/octet-stream")[:200],
            "size": file.size,
            "created_at": utcnow(),
        }
        if index >= runtime.limits.max_per_message:
            values |= _failed(f"too many files (at most {runtime.limits.max_per_message})")
        elif file.data is not None:
            if len(file.data) > runtime.limits.max_bytes:
                values |= {"size": len(file.data), **_failed(TOO_LARGE)}
            else:
                values |= await _stored_values(runtime, scope, file.data)
        elif file.ref and file.size is not None and file.size > runtime.limits.max_bytes:
            values |= _failed(TOO_LARGE)  # declared too large: not worth a download
        elif file.ref:
            values |= {"status": AttachmentStatus.PENDING.value, "provider_ref": file.ref[:1000]}
        else:
            values |= _failed("the channel sent neither the file nor a reference to it")
        rows.append(await repo.create(values))
    for row in rows:
        if row.status == AttachmentStatus.PENDING.value:
            await queue.insert(
                session,
                events.JOB_FETCH_ATTACHMENT,
                {"attachment_id": row.id},
                tenant_id=scope.tenant_id,
                idempotency_key=f"attachment-fetch:{row.id}",
                run_locally=True,
            )
    if uploads:
        if uploader is None:
            raise Unprocessable("uploads need their uploader")
        claimed = await repo.claim_uploads(
            uploads, channel_id, uploader, conversation_id, message_id
        )
        missing = sorted(set(uploads) - set(claimed))
        if missing:
            raise Unprocessable(f"unknown or already sent attachments: {missing}")
        rows.extend(await repo.for_ids(claimed))
    return [attachment_out(r).model_dump(mode="json") for r in sorted(rows, key=lambda r: r.id)]


async def upload(
    session: AsyncSession,
    scope: TenantScope,
    *,
    channel_id: uuid.UUID,
    uploader: str,
    filename: str | None,
    data: bytes,
) -> Attachment:
    """A widget visitor's file, stored before the message it goes with (which claims it,
    see :func:`check_uploads`)."""
    runtime = runtime_of(session)
    if len(data) > runtime.limits.max_bytes:
        raise PayloadTooLarge(f"a file is at most {runtime.limits.max_bytes} bytes")
    if not data:
        raise Unprocessable("the file is empty")
    values = await _stored_values(runtime, scope, data)
    return await AttachmentRepository(session, scope).create(
        {
            **values,
            "channel_id": channel_id,
            "uploader": uploader,
            "filename": clean_filename(filename),
            "created_at": utcnow(),
        }
    )


async def check_uploads(
    session: AsyncSession,
    scope: TenantScope,
    channel_id: uuid.UUID,
    uploader: str,
    ids: Sequence[int],
) -> None:
    """Refuse uploads that are not this visitor's, or already sent (422)."""
    found = await AttachmentRepository(session, scope).uploads(ids, channel_id, uploader)
    missing = sorted(set(ids) - {r.id for r in found})
    if missing:
        raise Unprocessable(f"unknown or already sent attachments: {missing}")


async def for_messages(
    session: AsyncSession, scope: TenantScope, message_ids: Sequence[int]
) -> dict[int, list[AttachmentOut]]:
    by_message: dict[int, list[AttachmentOut]] = {}
    for row in await AttachmentRepository(session, scope).for_messages(message_ids):
        if row.message_id is not None:
            by_message.setdefault(row.message_id, []).append(attachment_out(row))
    return by_message


async def messages_out(
    session: AsyncSession, scope: TenantScope, rows: Sequence[Any]
) -> list[MessageOut]:
    """Messages as the API shows them, each with its attachments."""
    files = await for_messages(session, scope, [m.id for m in rows])
    out = []
    for m in rows:
        message = MessageOut.model_validate(m)
        message.attachments = files.get(m.id, [])
        out.append(message)
    return out


async def open_file(
    session: AsyncSession,
    scope: TenantScope,
    attachment_id: int,
    channel_id: uuid.UUID | None = None,
) -> tuple[Attachment, bytes]:
    """A stored attachment and its bytes; 404 for another tenant's (or, with
    ``channel_id``, another channel's), a missing or an unstored one."""
    row = await AttachmentRepository(session, scope).get(attachment_id)
    if (
        row is None
        or row.status != AttachmentStatus.STORED.value
        or not row.storage_key
        or (channel_id is not None and row.channel_id != channel_id)
    ):
        raise NotFound("attachment not found")
    try:
        data = await runtime_of(session).store.get(row.storage_key)
    except StorageError as exc:
        log.warning("attachment blob unreadable", extra={"attachment_id": row.id})
        raise NotFound("attachment not found") from exc
    return row, data


# ---- the fetch job ------------------------------------------------------------------------


async def fetch(
    ctx: JobContext, box: SecretBox, options: AdapterOptions, runtime: AttachmentRuntime
) -> None:
    """Download a pending file through its channel's adapter and store it. Transient
    channel and storage errors are retried with the job's backoff; anything else is a
    final failure recorded on the row (the job itself is done)."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    attachment_id = int(ctx.payload["attachment_id"])
    async with ctx.db.reader() as session:
        row = await AttachmentRepository(session, scope).get(attachment_id)
        if row is None or row.status != AttachmentStatus.PENDING.value or not row.provider_ref:
            return
        ref, channel_id = row.provider_ref, row.channel_id
        try:
            channel = await channels.runtime_for(session, scope, box, channel_id)
        except NotFound:
            channel = None
    if channel is None:
        await _finish(ctx, scope, attachment_id, _failed("the channel is gone"))
        return
    adapter = build_adapter(channel.type, channel.config, channel.secret, options)
    fetch_attachment = getattr(adapter, "fetch_attachment", None)
    if fetch_attachment is None:
        reason = f"the {channel.type.value} channel cannot fetch files"
        await _finish(ctx, scope, attachment_id, _failed(reason))
        return
    try:
        fetched = await fetch_attachment(ref, runtime.limits.max_bytes)
    except RateLimited as exc:
        raise RetryAfter(str(exc), exc.retry_after or 0.0) from exc
    except ChannelError as exc:
        if exc.transient:
            raise
        await _finish(ctx, scope, attachment_id, _failed(f"{type(exc).__name__}: {exc}"))
        return
    if len(fetched.data) > runtime.limits.max_bytes:
        values = {"size": len(fetched.data), **_failed(TOO_LARGE)}
    else:
        try:
            values = await _stored_values(runtime, scope, fetched.data)
        except StorageError as exc:
            if exc.transient:
                raise
            values = _failed(f"storage: {exc}")
        if fetched.filename:
            values["filename"] = clean_filename(fetched.filename)
    await _finish(ctx, scope, attachment_id, values)


async def _finish(
    ctx: JobContext, scope: TenantScope, attachment_id: int, values: dict[str, Any]
) -> None:
    async with ctx.db.transaction() as session:
        row = await AttachmentRepository(session, scope).locked(attachment_id)
        if row is not None and row.status == AttachmentStatus.PENDING.value:
            await _update(session, scope, row, values)
        await ctx.complete_in(session)


async def _update(
    session: AsyncSession, scope: TenantScope, row: Attachment, values: dict[str, Any]
) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    if row.status != AttachmentStatus.PENDING.value:
        row.provider_ref = None
    await session.flush()
    if row.message_id is not None:
        await _publish_message(session, scope, row.message_id)


async def _publish_message(session: AsyncSession, scope: TenantScope, message_id: int) -> None:
    """``message.updated`` with the message's attachments as they are now (open consoles
    and widgets replace what they show)."""
    message = await messages.find(session, scope, message_id)
    if message is None:
        return
    (out,) = await messages_out(session, scope, [message])
    data = out.model_dump(mode="json")
    for topic in (
        events.conversation_topic(scope.tenant_id, message.conversation_id),
        events.inbox_topic(scope.tenant_id),
    ):
        publish_after_commit(session, topic, events.MESSAGE_UPDATED, data)


async def mark_fetch_failed(session: AsyncSession, ctx: JobContext, error: str) -> None:
    """``on_dead`` of the fetch job (transient failures until the attempts ran out)."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    row = await AttachmentRepository(session, scope).locked(int(ctx.payload["attachment_id"]))
    if row is not None and row.status == AttachmentStatus.PENDING.value:
        await _update(session, scope, row, _failed(error))
