"""Buffer realtime events on a session; they go out after its transaction commits."""

from __future__ import annotations

import logging
from typing import Any

from frontline.kit.db import HasInfo, after_commit
from frontline.realtime.broker import Broker

log = logging.getLogger(__name__)

BROKER_KEY = "frontline.broker"


def session_info(broker: Broker) -> dict[str, Any]:
    """Session ``info`` that lets services publish through ``broker`` without knowing it."""
    return {BROKER_KEY: broker}


def publish_after_commit(session: HasInfo, topic: str, name: str, data: dict[str, Any]) -> None:
    broker: Broker | None = session.info.get(BROKER_KEY)
    if broker is None:
        return
    event = {"type": name, "data": data}

    async def _send() -> None:
        try:
            await broker.publish(topic, event)
        except Exception:
            log.warning("realtime publish failed", extra={"topic": topic}, exc_info=True)

    after_commit(session, _send)
