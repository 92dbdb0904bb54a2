"""Shared pieces of the attachment tests: sample files, a local S3 server, and a channel
adapter that fetches provider files from a local HTTP server."""

from __future__ import annotations

import base64
import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import aiohttp
import boto3
import pytest
from moto.server import ThreadedMotoServer

from frontline.channels.api.adapter import ApiChannelAdapter, ApiChannelConfig
from frontline.channels.base import BadRequest, FetchedFile, RateLimited, Unavailable
from frontline.channels.http import http_client
from frontline.channels.registry import AdapterOptions, ChannelSpec
from tests.realtime.conftest import live, live_settings  # noqa: F401 - the live server


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port (real HTTP, the S3 REST protocol)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A fresh bucket on the local S3 server."""
    name = f"att-{uuid.uuid4().hex[:12]}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=name)
    client.close()
    return name


class FetchingApiAdapter(ApiChannelAdapter):
    """The API channel plus ``fetch_attachment`` from a local HTTP server (standing in for a
    provider's file API: Telegram's getFile, WhatsApp's media URLs)."""

    files_base = ""

    async def fetch_attachment(self, ref: str, max_bytes: int) -> FetchedFile:
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            http_client() as client,
            client.get(f"{self.files_base}{ref}", timeout=timeout) as response,
        ):
            data = await response.read()
            status, headers = response.status, response.headers
        if status == 429:
            raise RateLimited("slow down", retry_after=0.01)
        if status >= 500:
            raise Unavailable(f"HTTP {status}")
        if status >= 400:
            raise BadRequest(f"HTTP {status}: the file is gone")
        if len(data) > max_bytes:
            raise BadRequest("larger than the limit")
        return FetchedFile(data=data, content_type=headers.get("content-type"))


def fetching_spec(files_base: str) -> ChannelSpec:
    def build(cfg: Any, secret: str, opts: AdapterOptions) -> FetchingApiAdapter:
        adapter = FetchingApiAdapter(cfg, secret, opts.outbound_timeout_seconds)
        adapter.files_base = files_base
        return adapter

    return ChannelSpec(ApiChannelConfig, build)
