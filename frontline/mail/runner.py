"""The mailbox loop the worker runs beside its job loop (embedded and ``frontline
worker``): every ``FRONTLINE_MAIL_POLL_SECONDS`` it polls every active mailbox channel,
and it keeps an IMAP IDLE watcher (:mod:`frontline.mail.idle`) on each mailbox whose
channel allows IDLE, so new mail arrives at once where the server supports it; the timed
poll stays the fallback. Several workers may run it at once: each message is stored once
whoever fetches it (:mod:`frontline.mail.service`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable

from frontline.channels import service as channels
from frontline.conversations.limits import InboundLimits
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.mail.idle import IdleWatcher
from frontline.mail.service import PollReport, mailbox_runtimes, poll_channel, record_idle

log = logging.getLogger(__name__)


# how often the loop looks for new or changed mailbox channels between polls (one query)
WATCH_SYNC_SECONDS = 10.0


def _fingerprint(runtime: channels.ChannelRuntime) -> str:
    return hashlib.sha256(json.dumps(runtime.config, sort_keys=True).encode()).hexdigest()


class MailPoller:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        interval: float,
        batch: int,
        limits: InboundLimits | None = None,
        *,
        idle: bool = True,
        on_poll: Callable[[PollReport], None] | None = None,
        watch_seconds: float = WATCH_SYNC_SECONDS,
    ) -> None:
        self.db = db
        self.limits = limits
        self.box = box
        self.interval = interval
        self.batch = batch
        self.idle = idle
        self.on_poll = on_poll
        self.watch_seconds = watch_seconds
        # channel id -> (config fingerprint, watcher, its task)
        self.watchers: dict[uuid.UUID, tuple[str, IdleWatcher, asyncio.Task[None]]] = {}
        self._noted_off: set[tuple[uuid.UUID, str]] = set()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Poll until :meth:`stop`; a failed round is logged and the next one runs. Between
        rounds the IDLE watchers follow the channels every ``watch_seconds`` (a new or
        changed mailbox idles within seconds, not at the next poll)."""
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping.is_set():
                try:
                    await self.round()
                except Exception:
                    log.exception("mailbox polling failed")
                next_round = loop.time() + self.interval
                while not self._stopping.is_set():
                    wait = min(next_round - loop.time(), self.watch_seconds)
                    if wait <= 0:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), timeout=wait)
                    if self.idle and not self._stopping.is_set():
                        try:
                            await self._sync_watchers(await mailbox_runtimes(self.db, self.box))
                        except Exception:
                            log.exception("following the mailbox channels failed")
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop every IDLE watcher (what :meth:`run` does when it ends)."""
        await self._stop_watchers(set(self.watchers))

    async def round(self) -> list[PollReport]:
        """Start or stop IDLE watchers to match the channels, then poll every mailbox."""
        runtimes = await mailbox_runtimes(self.db, self.box)
        await self._sync_watchers(runtimes)
        reports = []
        for runtime in runtimes:
            report = await poll_channel(self.db, runtime, self.batch, self.limits)
            if self.on_poll is not None:
                self.on_poll(report)
            reports.append(report)
        return reports

    async def _sync_watchers(self, runtimes: list[channels.ChannelRuntime]) -> None:
        wanted: dict[uuid.UUID, channels.ChannelRuntime] = {}
        for runtime in runtimes:
            if runtime.config.get("imap_idle", True) is not False:
                if self.idle:
                    wanted[runtime.id] = runtime
            elif (runtime.id, _fingerprint(runtime)) not in self._noted_off:
                self._noted_off.add((runtime.id, _fingerprint(runtime)))
                await record_idle(self.db, TenantScope(runtime.tenant_id), runtime.id, "off")
        # a watcher that found no IDLE on its server stays ended until the config changes;
        # one that died of something unexpected is started again
        gone = {
            cid
            for cid, (print_, watcher, task) in self.watchers.items()
            if cid not in wanted
            or print_ != _fingerprint(wanted[cid])
            or (task.done() and not watcher.unsupported)
        }
        await self._stop_watchers(gone)
        for cid, runtime in wanted.items():
            if cid in self.watchers:
                continue
            watcher = IdleWatcher(
                self.db, runtime, self.batch, self.interval, self.on_poll, self.limits
            )
            task = asyncio.create_task(watcher.run(), name=f"frontline-mail-idle-{cid}")
            self.watchers[cid] = (_fingerprint(runtime), watcher, task)

    async def _stop_watchers(self, ids: set[uuid.UUID]) -> None:
        stopping = [self.watchers.pop(cid) for cid in ids if cid in self.watchers]
        for _p, watcher, _t in stopping:
            watcher.stop()
        for _p, _w, task in stopping:
            with contextlib.suppress(Exception):
                await task


def build_mail_poller(
    db: Database,
    box: SecretBox,
    interval: float,
    batch: int,
    limits: InboundLimits | None = None,
) -> MailPoller | None:
    """The poller the settings ask for (``None`` when polling is off)."""
    return MailPoller(db, box, interval, batch, limits) if interval > 0 else None
