"""The attachment stores: local files and an S3-compatible server (moto's, over HTTP)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from pydantic import SecretStr

from frontline.attachments.storage.base import (
    AttachmentStore,
    BadRequest,
    BlobNotFound,
    StorageConfig,
    StorageKind,
    Unavailable,
)
from frontline.attachments.storage.local import LocalFileStore
from frontline.attachments.storage.registry import build_store
from frontline.attachments.storage.s3 import S3Store
from tests.attachments.conftest import PDF, png


def s3_config(endpoint: str, bucket: str, **extra: object) -> StorageConfig:
    return StorageConfig(
        kind=StorageKind.S3,
        bucket=bucket,
        endpoint_url=endpoint,
        access_key_id=SecretStr("test"),
        secret_access_key=SecretStr("test"),
        **extra,  # type: ignore[arg-type]
    )


async def roundtrip(store: AttachmentStore) -> None:
    image = png()
    key = f"tenant/{hashlib.sha256(image).hexdigest()}"
    assert not await store.exists(key)
    await store.put(key, image, "image/png")
    await store.put(key, image, "image/png")  # content addressed: writing again is harmless
    assert await store.exists(key)
    assert await store.get(key) == image
    await store.put("tenant/other", PDF, "application/pdf")
    assert await store.get("tenant/other") == PDF
    await store.delete(key)
    assert not await store.exists(key)
    await store.delete(key)  # gone already: no error
    with pytest.raises(BlobNotFound):
        await store.get(key)
    for bad in ("../escape", "a//b", "/abs", "a/./b", "bad key", ""):
        with pytest.raises(BadRequest):
            await store.put(bad, b"x", "text/plain")
    await store.close()


async def test_local_store(tmp_path: Path) -> None:
    store = build_store(StorageConfig(kind=StorageKind.LOCAL, directory=str(tmp_path / "files")))
    assert isinstance(store, LocalFileStore)
    await roundtrip(store)
    # no stray temporary files after the writes
    assert not [p for p in (tmp_path / "files").rglob("*.tmp")]


async def test_s3_store_against_a_local_s3_server(s3_server: str, s3_bucket: str) -> None:
    store = build_store(s3_config(s3_server, s3_bucket, prefix="frontline/"))
    assert isinstance(store, S3Store)
    await roundtrip(store)


async def test_s3_store_puts_objects_under_the_prefix(s3_server: str, s3_bucket: str) -> None:
    import boto3

    store = S3Store(s3_config(s3_server, s3_bucket, prefix="files"))
    await store.put("t1/ab/abc", b"hello", "text/plain")
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        head = client.head_object(Bucket=s3_bucket, Key="files/t1/ab/abc")
        assert head["ContentType"] == "text/plain" and head["ContentLength"] == 5
    finally:
        client.close()
    await store.close()


async def test_s3_errors_map_onto_the_closed_set(s3_server: str) -> None:
    missing_bucket = S3Store(s3_config(s3_server, "no-such-bucket-here"))
    with pytest.raises(BadRequest):
        await missing_bucket.put("k", b"x", "text/plain")
    await missing_bucket.close()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = S3Store(s3_config(closed, "bucket", timeout_seconds=2.0))
    with pytest.raises(Unavailable) as caught:
        await down.get("k")
    assert caught.value.transient
    await down.close()
