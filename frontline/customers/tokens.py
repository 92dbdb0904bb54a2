"""Customer tokens: a JWT (HS256) the host application's backend signs for its signed-in
user with the web channel's identity secret. Its header names the channel (``kid``: the
widget key); its claims are ``sub`` (the user id), ``iat`` and ``exp``, at most
:data:`MAX_LIFETIME_SECONDS` apart. Nothing is stored: a token is valid until it expires, and
rotating the channel's secret invalidates every token at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt

from frontline.errors import Unauthorized
from frontline.realtime.visitors import channel_id_for_key

MAX_LIFETIME_SECONDS = 3600
LEEWAY_SECONDS = 30
MAX_USER_ID_CHARS = 200


@dataclass(frozen=True, slots=True)
class Claims:
    channel_id: uuid.UUID
    user_id: str


def channel_of(token: str) -> uuid.UUID:
    """The channel a token says it is for (not yet verified: its secret verifies it)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("malformed customer token") from None
    kid = header.get("kid")
    channel_id = channel_id_for_key(kid) if isinstance(kid, str) else None
    if channel_id is None:
        raise Unauthorized("the token's header must name the widget key as kid")
    return channel_id


def verify(token: str, channel_id: uuid.UUID, secret: str) -> Claims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["sub", "iat", "exp"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the customer token has expired") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid customer token: {exc}") from None
    sub, iat, exp = claims["sub"], claims["iat"], claims["exp"]
    if not isinstance(sub, str) or not 1 <= len(sub) <= MAX_USER_ID_CHARS:
        raise Unauthorized(f"sub must be the user id (1-{MAX_USER_ID_CHARS} characters)")
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)):
        raise Unauthorized("iat and exp must be numbers")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise Unauthorized(f"a customer token lives at most {MAX_LIFETIME_SECONDS} seconds")
    return Claims(channel_id, sub)
