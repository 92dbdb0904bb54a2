"""Redis clients with bounded waits, and the one-line-per-outage log every user of Redis keeps.

A Redis that stops answering without closing its sockets (a paused process, a host gone
from the network) would hold a command for ever on a client without socket timeouts (the
default of older ``redis`` releases): every publisher, socket and request waiting on it
would hang. Every client Frontline makes comes from :func:`redis_client`, with a connect
timeout, a read/write timeout, TCP keep-alive and a health check (a ``PING`` before using a
connection idle for longer than the interval), so a silent Redis fails a command within the
timeout and the caller falls back to the process (see :mod:`frontline.realtime.broker`,
:mod:`frontline.realtime.presence`, :mod:`frontline.kit.counters`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RedisOptions:
    """``FRONTLINE_REDIS_*`` (seconds; a health check interval of 0 turns it off)."""

    connect_timeout: float = 2.0
    socket_timeout: float = 2.0
    health_check_interval: float = 15.0


def redis_client(url: str, options: RedisOptions | None = None) -> Any:
    """A ``redis.asyncio.Redis`` for ``url`` whose waits are bounded by ``options``."""
    from redis.asyncio import Redis

    o = options or RedisOptions()
    return Redis.from_url(
        url,
        socket_connect_timeout=o.connect_timeout,
        socket_timeout=o.socket_timeout,
        socket_keepalive=True,
        health_check_interval=o.health_check_interval,
    )


class Outage:
    """Whether Redis is unreachable for one user of it, logged (on that user's ``logger``)
    once when it goes and once when it is back, not once per failed command."""

    def __init__(self, logger: logging.Logger, went: str, back: str) -> None:
        self._log = logger
        self._went = went
        self._back = back
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            self._log.warning("%s: %r", self._went, exc)

    def answered(self) -> None:
        if self.down:
            self.down = False
            self._log.warning("%s", self._back)
