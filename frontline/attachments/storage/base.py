"""The attachment store contract: the Protocol, its config, the closed error set.

A store keeps blobs (bytes) under keys chosen by the caller. Keys are content addressed
(the attachments domain names a blob by its tenant and SHA-256), so writing the same key
twice writes the same bytes: a put is idempotent, and a transaction that rolls back after
its put leaves at most an orphan blob, never a row without its blob. Stores import only
``frontline.kit`` and this module.
"""

from __future__ import annotations

import enum
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class StorageKind(enum.StrEnum):
    LOCAL = "local"
    S3 = "s3"


class StorageConfig(BaseModel):
    """Where blobs go (from the ``FRONTLINE_ATTACHMENTS_*`` settings)."""

    model_config = ConfigDict(frozen=True)

    kind: StorageKind = StorageKind.LOCAL
    # local files
    directory: str = "./data/attachments"
    # S3-compatible
    bucket: str | None = None
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    prefix: str = ""
    timeout_seconds: float = Field(default=30.0, gt=0)


class StorageError(Exception):
    """Base of the closed error set. ``transient`` errors are worth retrying."""

    transient: ClassVar[bool] = False


class BlobNotFound(StorageError):
    """No blob under that key."""


class AuthFailed(StorageError):
    """The store refused our credentials."""


class BadRequest(StorageError):
    """The store refused the request (a missing bucket, an invalid key)."""


class Unavailable(StorageError):
    transient = True


class Timeout(StorageError):
    transient = True


class AttachmentStore(Protocol):
    kind: ClassVar[StorageKind]

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing what is there: keys are content
        addressed, so it is the same bytes)."""
        ...

    async def get(self, key: str) -> bytes:
        """The blob under ``key``; :class:`BlobNotFound` when there is none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the blob; no error when it is already gone."""
        ...

    async def close(self) -> None:
        """Release connections (the process is stopping)."""
        ...


def check_key(key: str) -> str:
    """Keys are ``/``-separated names of ``[A-Za-z0-9._-]`` characters, none of them
    ``.`` or ``..`` (so a local store can never be led outside its directory)."""
    parts = key.split("/")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if (
        not key
        or len(key) > 512
        or any(p in ("", ".", "..") or not set(p) <= allowed for p in parts)
    ):
        raise BadRequest(f"invalid storage key {key!r}")
    return key
