"""Widget keys and visitor tokens.

A widget key names a web channel (``wk_`` + the channel id): it is public, printed in every
page that embeds the widget. A visitor token (``vt1.<visitor id>.<signature>``) is issued on
first contact and kept by the widget in ``localStorage``; the signature (HMAC with a key
derived from the secret key, bound to the channel) means nobody can forge another visitor's
token to read their conversation. Rotating the secret key keeps tokens valid while the old
key stays listed in ``previous_secret_keys``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence

from frontline.kit.crypto import derive_key

WIDGET_KEY_PREFIX = "wk_"
TOKEN_VERSION = "vt1"  # noqa: S105 - a format tag, not a secret


def widget_key(channel_id: uuid.UUID) -> str:
    return f"{WIDGET_KEY_PREFIX}{channel_id.hex}"


def channel_id_for_key(key: str) -> uuid.UUID | None:
    if not key.startswith(WIDGET_KEY_PREFIX):
        return None
    try:
        return uuid.UUID(hex=key[len(WIDGET_KEY_PREFIX) :])
    except ValueError:
        return None


class VisitorTokens:
    def __init__(self, secret_keys: Sequence[str]) -> None:
        self._keys = [derive_key(k, "frontline.visitor.v1") for k in secret_keys]

    def _signature(self, key: bytes, channel_id: uuid.UUID, visitor_id: str) -> str:
        mac = hmac.new(key, f"{channel_id}:{visitor_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def issue(self, channel_id: uuid.UUID) -> tuple[str, str]:
        """A new visitor: ``(visitor_id, token)``."""
        visitor_id = secrets.token_hex(16)
        return visitor_id, self.token_for(channel_id, visitor_id)

    def token_for(self, channel_id: uuid.UUID, visitor_id: str) -> str:
        signature = self._signature(self._keys[0], channel_id, visitor_id)
        return f"{TOKEN_VERSION}.{visitor_id}.{signature}"

    def verify(self, channel_id: uuid.UUID, token: str | None) -> str | None:
        """The visitor id of a valid token for this channel, else ``None``."""
        if not token or len(token) > 200:
            return None
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            return None
        visitor_id, signature = parts[1], parts[2]
        if len(visitor_id) != 32 or not all(c in "0123456789abcdef" for c in visitor_id):
            return None
        for key in self._keys:
            if hmac.compare_digest(signature, self._signature(key, channel_id, visitor_id)):
                return visitor_id
        return None


def contact_external_id(visitor_id: str) -> str:
    """The visitor's identity on the web channel (an anonymous contact until they give a
    name or an e-mail)."""
    return f"visitor:{visitor_id}"


def message_external_id(visitor_id: str, client_id: str) -> str:
    """The stored message's external id: a resend of one ``client_id`` is a no-op (the
    ``(channel, external id)`` unique constraint), and visitors cannot collide."""
    return f"{visitor_id}:{client_id}"


# ---- identified visitors ---------------------------------------------------------------


def user_hash(identity_secret: str, user_id: str) -> str:
    """What the host's backend computes for its signed-in user: HMAC-SHA256 of the user id
    (UTF-8) keyed with the web channel's identity secret, as lower-case hex."""
    return hmac.new(identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify_user_hash(identity_secret: str, user_id: str, given: str | None) -> bool:
    """Constant-time check of a widget's ``user_hash``."""
    if not given or len(given) > 128:
        return False
    expected = user_hash(identity_secret, user_id)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def identified_visitor_id(channel_id: uuid.UUID, user_id: str) -> str:
    """The one visitor id of a host-application user on a channel, whatever the device: every
    browser where they are signed in gets a token for it, so they share one contact and one
    history (the token is still signed, so knowing this id grants nothing)."""
    return hashlib.sha256(f"frontline.user:{channel_id}:{user_id}".encode()).hexdigest()[:32]
