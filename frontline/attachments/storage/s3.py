"""S3-compatible object storage (AWS S3, MinIO, Ceph, Yandex Object Storage, ...) through
``boto3``.

boto3's client is synchronous and thread-safe: one client per store, with its own pool of
keep-alive connections, and each call runs in a worker thread, so the event loop never
blocks and no connection is bound to one event loop. With an ``endpoint_url`` (anything but
AWS itself) requests use path-style addressing, which every S3-compatible server speaks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from frontline.attachments.storage.base import (
    AuthFailed,
    BadRequest,
    BlobNotFound,
    StorageConfig,
    StorageError,
    StorageKind,
    Timeout,
    Unavailable,
    check_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

T = TypeVar("T")

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_AUTH = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Forbidden"}
)
_TRANSIENT = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "503"}
)


def _translate(exc: Exception, what: str) -> StorageError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        detail = f"{what}: {code or status} {error.get('Message', '')}".strip()
        if code in _NOT_FOUND:
            return BlobNotFound(detail)
        if code in _AUTH:
            return AuthFailed(detail)
        if code in _TRANSIENT or status >= 500 or status == 429:
            return Unavailable(detail)
        return BadRequest(detail)
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return Timeout(f"{what}: {exc}")
    if isinstance(exc, EndpointConnectionError):
        return Unavailable(f"{what}: {exc}")
    return Unavailable(f"{what}: {exc}")


class S3Store:
    kind: ClassVar[StorageKind] = StorageKind.S3

    def __init__(self, config: StorageConfig) -> None:
        if not config.bucket:
            raise ValueError("the S3 store needs a bucket")
        self.bucket = config.bucket
        self.prefix = config.prefix.strip("/")
        self._config = config
        self._client: S3Client | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: StorageConfig) -> S3Store:
        return cls(config)

    def _s3(self) -> S3Client:
        """The client, built on first use (building one loads botocore's service model,
        some tens of milliseconds: not at import or start-up)."""
        with self._lock:
            if self._client is None:
                c = self._config
                self._client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=c.endpoint_url or None,
                    region_name=c.region,
                    aws_access_key_id=(
                        c.access_key_id.get_secret_value() if c.access_key_id else None
                    ),
                    aws_secret_access_key=(
                        c.secret_access_key.get_secret_value() if c.secret_access_key else None
                    ),
                    config=Config(
                        connect_timeout=min(c.timeout_seconds, 10.0),
                        read_timeout=c.timeout_seconds,
                        retries={"max_attempts": 3, "mode": "standard"},
                        s3={"addressing_style": "path" if c.endpoint_url else "auto"},
                        # checksums only where S3 requires them: several S3-compatible
                        # servers refuse the CRC32 headers newer boto3 adds by default
                        request_checksum_calculation=(
                            "when_required" if c.endpoint_url else "when_supported"
                        ),
                        response_checksum_validation=(
                            "when_required" if c.endpoint_url else "when_supported"
                        ),
                    ),
                )
            return self._client

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, what) from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self.object_key(key)
        await self._call(
            f"put {key}",
            lambda: self._s3().put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            ),
        )

    async def get(self, key: str) -> bytes:
        name = self.object_key(key)

        def _read() -> bytes:
            answer = self._s3().get_object(Bucket=self.bucket, Key=name)
            body = answer["Body"]
            try:
                return body.read()
            finally:
                body.close()

        return await self._call(f"get {key}", _read)

    async def exists(self, key: str) -> bool:
        name = self.object_key(key)
        try:
            await self._call(
                f"head {key}", lambda: self._s3().head_object(Bucket=self.bucket, Key=name)
            )
        except BlobNotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        name = self.object_key(key)
        await self._call(
            f"delete {key}", lambda: self._s3().delete_object(Bucket=self.bucket, Key=name)
        )

    async def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)
