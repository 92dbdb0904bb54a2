"""Short-lived signed links to files, for widget visitors (who have no staff credentials).

A link names the web channel (its public widget key), the attachment and an expiry time,
signed with HMAC-SHA256 under a key derived from the process secret. Only the visitor whose
conversation holds the file is ever handed one (in their own messages); it stops working at
``exp``. Rotating the secret key keeps links valid while the old key is still listed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Sequence
from urllib.parse import urlencode

from frontline.kit.crypto import derive_key

WIDGET_FILES_PATH = "/api/v1/widget/attachments"


class LinkSigner:
    def __init__(self, secret_keys: Sequence[str]) -> None:
        self._keys = [derive_key(k, "frontline.attachment-link.v1") for k in secret_keys]

    @staticmethod
    def _signature(key: bytes, channel_id: uuid.UUID, attachment_id: int, exp: int) -> str:
        message = f"{channel_id}:{attachment_id}:{exp}".encode()
        mac = hmac.new(key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def widget_url(
        self,
        channel_id: uuid.UUID,
        attachment_id: int,
        ttl_seconds: int,
        now: float | None = None,
    ) -> str:
        """A path (on this server) to the file, valid for ``ttl_seconds``."""
        exp = int(now if now is not None else time.time()) + ttl_seconds
        query = urlencode(
            {
                "key": f"wk_{channel_id.hex}",
                "exp": exp,
                "sig": self._signature(self._keys[0], channel_id, attachment_id, exp),
            }
        )
        return f"{WIDGET_FILES_PATH}/{attachment_id}?{query}"

    def verify(
        self,
        channel_id: uuid.UUID,
        attachment_id: int,
        exp: int,
        signature: str,
        now: float | None = None,
    ) -> bool:
        """Whether the link is authentic and not yet expired."""
        if exp < int(now if now is not None else time.time()):
            return False
        return any(
            hmac.compare_digest(signature, self._signature(key, channel_id, attachment_id, exp))
            for key in self._keys
        )
