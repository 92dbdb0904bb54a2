"""Web chat channel: visitors write through the widget's WebSocket, not a webhook, and replies
reach them as realtime events the moment they are stored. Delivery therefore has nothing to
send: the adapter only confirms it, so a web reply is ``sent`` like any other channel's."""

from __future__ import annotations

import re
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator

from frontline.channels.base import (
    BadRequest,
    ChannelConfig,
    ChannelType,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    SendResult,
)

DEFAULT_MESSAGES_PER_MINUTE = 20
DEFAULT_MAX_MESSAGE_CHARS = 4000
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, the form browsers send in ``Origin``."""
    value = value.strip().rstrip("/")
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an origin (scheme://host[:port]): {value!r}")
    if parts.path or parts.query or parts.fragment:
        raise ValueError(f"an origin has no path: {value!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


class WebChannelConfig(ChannelConfig):
    """What the widget shows and who may embed it.

    ``allowed_origins`` lists the sites allowed to embed the widget (``"*"`` allows any);
    Frontline's own origin (its demo page) is always allowed. The channel's secret is its
    identity secret: the host site signs its users' ids with it (``user_hash``).
    """

    model_config = ConfigDict(extra="forbid")

    allowed_origins: list[str] = Field(default_factory=list, max_length=100)
    title: str = Field(default="", max_length=100)
    greeting: str = Field(default="", max_length=500)
    color: str = "#2563eb"
    position: Literal["left", "right"] = "right"
    language: Literal["ru", "en"] | None = None
    messages_per_minute: int = Field(default=DEFAULT_MESSAGES_PER_MINUTE, ge=1, le=600)
    max_message_chars: int = Field(default=DEFAULT_MAX_MESSAGE_CHARS, ge=1, le=20_000)
    # only signed-in users of the host site may chat (``user_id`` + ``user_hash`` required)
    require_identity: bool = False

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [normalize_origin(v) for v in value]

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not _COLOR.match(value):
            raise ValueError("a colour is #rgb or #rrggbb")
        return value

    def allows(self, origin: str | None, own_origin: str | None = None) -> bool:
        """Whether a page at ``origin`` may use the widget. A request without ``Origin``
        (not from a browser page) is allowed: the check protects visitors' browsers, and a
        non-browser client can send any header it likes anyway."""
        if origin is None:
            return True
        try:
            normalized = normalize_origin(origin)
        except ValueError:
            return False
        if own_origin is not None and normalized == own_origin:
            return True
        return "*" in self.allowed_origins or normalized in self.allowed_origins


class WebChannelAdapter:
    type: ClassVar[ChannelType] = ChannelType.WEB
    # the widget shows messages by id: publishing one again is harmless
    resend_is_idempotent: ClassVar[bool] = True

    def __init__(self, config: WebChannelConfig) -> None:
        self._config = config

    def verify_and_parse(self, request: InboundRequest) -> list[InboundMessage]:
        raise BadRequest("the web channel receives messages over its WebSocket, not a webhook")

    async def send(self, message: OutboundMessage) -> SendResult:
        # stored = delivered: the visitor's open widgets received ``message.created`` at
        # commit, and a widget opened later reads the history
        return SendResult(external_id=None)
