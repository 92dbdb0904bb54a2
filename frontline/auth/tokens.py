"""Access tokens: short-lived HS256 JWTs signed with a key derived from the secret key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from frontline.kit.crypto import derive_key
from frontline.kit.time import utcnow

ALGORITHM = "HS256"
ISSUER = "frontline"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    role: str | None
    is_superadmin: bool


class TokenCodec:
    def __init__(self, secret_key: str, ttl_seconds: int) -> None:
        self._key = derive_key(secret_key, "frontline.jwt.v1")
        self.ttl_seconds = ttl_seconds

    def issue(self, claims: AccessClaims, ttl_seconds: int | None = None) -> str:
        """A signed access token for ``claims``, valid for ``ttl_seconds`` (default: the
        codec's TTL; the console's session cookie lives longer than an API token)."""
        now = utcnow()
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        payload = {
            "iss": ISSUER,
            "typ": "access",
            "sub": str(claims.user_id),
            "tid": str(claims.tenant_id) if claims.tenant_id else None,
            "role": claims.role,
            "sa": claims.is_superadmin,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        try:
            data = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if data.get("typ") != "access":
            raise InvalidToken("not an access token")
        try:
            return AccessClaims(
                user_id=uuid.UUID(data["sub"]),
                tenant_id=uuid.UUID(data["tid"]) if data.get("tid") else None,
                role=data.get("role"),
                is_superadmin=bool(data.get("sa")),
            )
        except (ValueError, KeyError) as exc:
            raise InvalidToken("malformed claims") from exc
