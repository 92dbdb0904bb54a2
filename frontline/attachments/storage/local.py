"""Local files: the embedded default (a directory next to the SQLite file).

Writes go to a temporary file in the target's directory and are renamed over the target, so
a reader never sees half a blob and a crash leaves at most a stray temporary file. File I/O
runs in a thread: the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import ClassVar

from frontline.attachments.storage.base import (
    BlobNotFound,
    StorageConfig,
    StorageKind,
    Unavailable,
    check_key,
)


class LocalFileStore:
    kind: ClassVar[StorageKind] = StorageKind.LOCAL

    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory).resolve()

    @classmethod
    def from_config(cls, config: StorageConfig) -> LocalFileStore:
        return cls(config.directory)

    def path_for(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _put(self, key: str, data: bytes) -> None:
        path = self.path_for(key)
        if path.is_file() and path.stat().st_size == len(data):
            return  # content addressed: the same key holds the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await asyncio.to_thread(self._put, key, data)
        except OSError as exc:
            raise Unavailable(f"cannot write {key}: {exc}") from exc

    def _get(self, key: str) -> bytes:
        return self.path_for(key).read_bytes()

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._get, key)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise Unavailable(f"cannot read {key}: {exc}") from exc

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self.path_for(key).unlink, True)
        except OSError as exc:
            raise Unavailable(f"cannot delete {key}: {exc}") from exc

    async def close(self) -> None:
        return None
