"""Password hashing, token generation, secrets at rest and webhook signatures.

- Passwords use argon2id (``argon2-cffi``).
- High-entropy tokens (API keys, refresh tokens, channel secrets) are stored as SHA-256
  digests: they cannot be brute-forced, so a slow hash buys nothing and costs latency.
- Secrets that must be read back (channel configs, provider keys) are encrypted with Fernet
  under a key derived from ``FRONTLINE_SECRET_KEY``; older keys may be listed so that data
  written under them still decrypts while it is re-encrypted (rotation).
- Webhook signatures are ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` and are
  compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    """A URL-safe random token, optionally prefixed (``flk_...``) so leaks are recognisable."""
    return prefix + secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the process secret with HKDF-SHA256."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


class DecryptionError(Exception):
    """Ciphertext that no configured key opens (wrong key, or tampered)."""


class SecretBox:
    """Symmetric encryption of secrets at rest; the first key encrypts, all keys decrypt."""

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        fernets = [
            Fernet(base64.urlsafe_b64encode(derive_key(key, "frontline.secretbox.v1")))
            for key in secret_keys
        ]
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("secret cannot be decrypted with the configured keys") from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the current (first) key."""
        return self._fernet.rotate(ciphertext.encode()).decode()


class SignatureError(Exception):
    """A webhook signature that is missing, malformed, wrong or too old."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Frontline-Signature`` header value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(
    secret: str, body: bytes, header: str | None, tolerance_seconds: int, now: float | None = None
) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` within the tolerance."""
    if not header:
        raise SignatureError("missing signature")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError, IndexError):
        raise SignatureError("malformed signature") from None
    candidates = parts.get("v1", [])
    if not candidates:
        raise SignatureError("malformed signature")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError("signature timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    digest = expected.hexdigest()
    if not any(hmac.compare_digest(digest, c) for c in candidates):
        raise SignatureError("signature does not match")
