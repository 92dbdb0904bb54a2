"""IMAP IDLE for mailbox channels: new mail is taken the moment the server announces it,
not at the next poll.

One :class:`IdleWatcher` per mailbox channel (started and stopped by the poll loop,
:mod:`frontline.mail.runner`) keeps a connection of its own idling in the channel's folder
in a worker thread. When the server sends ``EXISTS`` the watcher polls the channel
(:func:`frontline.mail.service.poll_channel`: the same exactly-once path as the timed
poll, so a message is never stored twice whichever of them sees it first) and idles again.
A server without IDLE, a channel with ``imap_idle`` off or a broken connection falls back
to the timed poll, which keeps running beside the watchers; the state shows in the
mailbox health (``idle``: active, unsupported, off, error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from frontline.channels import service as channels
from frontline.channels.base import ChannelError
from frontline.channels.email.imap import ImapMailbox
from frontline.channels.email.mailbox import MailboxChannelConfig
from frontline.conversations.limits import InboundLimits
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.mail.service import PollReport, poll_channel, record_idle

log = logging.getLogger(__name__)

# RFC 2177: a client should re-issue IDLE at least every 29 minutes
IDLE_RENEW_SECONDS = 25 * 60.0


class IdleWatcher:
    """Waits in IMAP IDLE on one mailbox and polls it when mail arrives."""

    def __init__(
        self,
        db: Database,
        runtime: channels.ChannelRuntime,
        batch: int,
        retry_seconds: float,
        on_poll: Callable[[PollReport], None] | None = None,
        limits: InboundLimits | None = None,
    ) -> None:
        self.db = db
        self.limits = limits
        self.runtime = runtime
        self.batch = batch
        self.retry_seconds = retry_seconds
        self.on_poll = on_poll
        self.unsupported = False  # the server has no IDLE: the timed poll serves it
        # set while the server has confirmed IDLE (tests append mail only then)
        self.idling = asyncio.Event()
        self._stopping = asyncio.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        # a thread of its own: an idling connection holds it for minutes, which must not
        # starve the shared executor the pollers' IMAP calls run in
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frontline-idle")

    def stop(self) -> None:
        """Wake the idling thread and end :meth:`run` (callable from the loop only)."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")

    async def run(self) -> None:
        scope = TenantScope(self.runtime.tenant_id)
        config = MailboxChannelConfig.model_validate(self.runtime.config)
        try:
            while not self._stopping.is_set():
                try:
                    if await self._session(config, scope) == "unsupported":
                        self.unsupported = True
                        return
                except ChannelError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "mailbox IDLE failed, polling meanwhile",
                        extra={"channel_id": str(self.runtime.id), "error": error},
                    )
                    await record_idle(self.db, scope, self.runtime.id, "error", error)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.retry_seconds)
        except Exception:
            log.exception("mailbox IDLE watcher failed", extra={"channel_id": str(self.runtime.id)})
            raise
        finally:
            self._thread.shutdown(wait=False)
            self._wake_read.close()
            self._wake_write.close()

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def _session(self, config: MailboxChannelConfig, scope: TenantScope) -> str:
        """One IDLE connection, until it fails, the server lacks IDLE or we stop."""
        mailbox = ImapMailbox(config.imap_settings())
        loop = asyncio.get_running_loop()
        try:
            await self._in_thread(mailbox.open)
            if not mailbox.supports_idle():
                await record_idle(self.db, scope, self.runtime.id, "unsupported")
                return "unsupported"
            await record_idle(self.db, scope, self.runtime.id, "active")
            # mail that came after the last poll but before this connection selected the
            # folder announces no EXISTS: poll once now
            await self._poll()
            while not self._stopping.is_set():
                outcome = await self._in_thread(
                    mailbox.idle,
                    IDLE_RENEW_SECONDS,
                    self._wake_read,
                    lambda: loop.call_soon_threadsafe(self.idling.set),
                )
                self.idling.clear()
                if outcome == "mail":
                    await self._poll()
            return "stopped"
        finally:
            self.idling.clear()
            await self._in_thread(mailbox.close)

    async def _poll(self) -> None:
        report = await poll_channel(self.db, self.runtime, self.batch, self.limits)
        if self.on_poll is not None:
            self.on_poll(report)
