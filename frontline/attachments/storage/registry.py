"""Attachment stores keyed by :class:`StorageKind`."""

from __future__ import annotations

from collections.abc import Callable

from frontline.attachments.storage.base import AttachmentStore, StorageConfig, StorageKind
from frontline.attachments.storage.local import LocalFileStore
from frontline.attachments.storage.s3 import S3Store

REGISTRY: dict[StorageKind, Callable[[StorageConfig], AttachmentStore]] = {
    StorageKind.LOCAL: LocalFileStore.from_config,
    StorageKind.S3: S3Store.from_config,
}


def build_store(config: StorageConfig) -> AttachmentStore:
    """The store ``config`` names (one per process: it holds the S3 connection pool)."""
    return REGISTRY[config.kind](config)
