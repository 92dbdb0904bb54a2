"""The mailbox poll loop the worker runs beside its job loop (embedded and ``frontline
worker``): every ``FRONTLINE_MAIL_POLL_SECONDS`` it polls every active mailbox channel.
Several workers may run it at once: each message is stored once whoever fetches it
(:mod:`frontline.mail.service`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from frontline.conversations.limits import InboundLimits
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.mail.service import poll_all

log = logging.getLogger(__name__)


class MailPoller:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        interval: float,
        batch: int,
        limits: InboundLimits | None = None,
    ) -> None:
        self.db = db
        self.limits = limits
        self.box = box
        self.interval = interval
        self.batch = batch
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Poll until :meth:`stop`; a failed round is logged and the next one runs."""
        while not self._stopping.is_set():
            try:
                await poll_all(self.db, self.box, self.batch, limits=self.limits)
            except Exception:
                log.exception("mailbox polling failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)


def build_mail_poller(
    db: Database,
    box: SecretBox,
    interval: float,
    batch: int,
    limits: InboundLimits | None = None,
) -> MailPoller | None:
    """The poller the settings ask for (``None`` when polling is off)."""
    return MailPoller(db, box, interval, batch, limits) if interval > 0 else None
