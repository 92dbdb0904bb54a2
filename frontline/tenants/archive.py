"""A workspace backup as one zip archive: its rows (:mod:`frontline.tenants.backup`) and the
files its customers sent (attachment blobs), each blob checked by size and SHA-256.

Layout: ``workspace.json`` (the export document, ``version`` 2, with a ``blobs`` list of
``{key, sha256, size}``) and ``blobs/<sha256>`` per distinct stored file. Blobs are read
from and written to the installation's attachment store through its interface, so local
files and S3 back up and restore alike (and a backup moves between the two).

An import checks everything before it writes anything: the archive opens, the document is
a supported version, every listed blob is in it with the listed size and SHA-256. Then the
rows are inserted in the caller's transaction (a clash - the workspace already there - is
refused before a blob is written) and the blobs are put in the store before that transaction
commits: a failure leaves no row, at most blobs that nothing refers to (keys are content
addressed, so a later import of the same archive writes the same bytes again).
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.attachments.service import storage_key
from frontline.attachments.storage.base import AttachmentStore, BlobNotFound
from frontline.errors import Unprocessable
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.models import AttachmentStatus
from frontline.tenants.backup import FORMAT, export_tenant, import_tenant

ARCHIVE_VERSION = 2
DOCUMENT = "workspace.json"
BLOBS = "blobs/"
# the document itself at most (its rows; the files are separate entries)
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024


@dataclass
class ArchiveSummary:
    tenant_id: uuid.UUID
    rows: int
    blobs: int
    blob_bytes: int
    # stored attachments whose file the store no longer has (their rows are exported)
    missing: list[str] = field(default_factory=list)


def is_archive(path: str | Path) -> bool:
    """Whether ``path`` starts like a zip archive (a version 1 backup is plain JSON)."""
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _stored_blobs(document: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """``{storage key: (sha256, size)}`` of the workspace's stored attachments."""
    blobs: dict[str, tuple[str, int]] = {}
    for row in document["tables"].get("attachments", []):
        if row.get("status") == AttachmentStatus.STORED.value and row.get("storage_key"):
            blobs[row["storage_key"]] = (str(row["sha256"]), int(row["size"] or 0))
    return blobs


async def export_archive(
    session: AsyncSession,
    box: SecretBox,
    store: AttachmentStore,
    tenant_id: uuid.UUID,
    out: IO[bytes],
    *,
    with_secrets: bool = False,
) -> ArchiveSummary:
    """Write the workspace to ``out`` as a zip archive (see the module doc)."""
    document = await export_tenant(session, box, tenant_id, with_secrets=with_secrets)
    document["version"] = ARCHIVE_VERSION
    listed: list[dict[str, Any]] = []
    summary = ArchiveSummary(
        tenant_id, sum(len(rows) for rows in document["tables"].values()), 0, 0
    )
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, (sha256, _size) in sorted(_stored_blobs(document).items()):
            try:
                data = await store.get(key)
            except BlobNotFound:
                summary.missing.append(key)
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha256:
                # the store holds other bytes than the row says: keep the row, not the file
                summary.missing.append(key)
                continue
            archive.writestr(f"{BLOBS}{digest}", data)
            listed.append({"key": key, "sha256": digest, "size": len(data)})
            summary.blobs += 1
            summary.blob_bytes += len(data)
        document["blobs"] = listed
        document["missing_blobs"] = summary.missing
        text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
        archive.writestr(DOCUMENT, text.encode("utf-8"))
    return summary


def _broken(detail: object) -> Unprocessable:
    return Unprocessable(f"not a readable {FORMAT} archive ({detail})")


def read_archive(path: str | Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The document and the blobs (by key) of an archive, every blob checked; raises
    :class:`~frontline.errors.Unprocessable` for a corrupt, truncated or foreign archive,
    an unsupported version, or a blob that is missing or is not what the document says."""
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo(DOCUMENT)
            except KeyError:
                raise _broken(f"no {DOCUMENT} in it") from None
            if info.file_size > MAX_DOCUMENT_BYTES:
                raise _broken(f"{DOCUMENT} is too large")
            try:
                document = json.loads(archive.read(DOCUMENT).decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _broken(f"{DOCUMENT} is not JSON: {exc}") from None
            if not isinstance(document, dict) or document.get("format") != FORMAT:
                raise Unprocessable(f"not a {FORMAT} archive")
            if document.get("version") != ARCHIVE_VERSION:
                raise Unprocessable(
                    f"unsupported backup archive version {document.get('version')!r} "
                    f"(this installation reads version {ARCHIVE_VERSION})"
                )
            listed = document.get("blobs")
            if not isinstance(listed, list):
                raise _broken("no list of files in the document")
            blobs: dict[str, bytes] = {}
            for entry in listed:
                blobs[_entry_key(entry)] = _read_blob(archive, entry)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _broken(exc) from None
    except OSError as exc:
        raise Unprocessable(f"cannot read {path}: {exc}") from None
    return document, blobs


def _entry_key(entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
        raise _broken(f"a file entry is malformed: {entry!r}"[:300])
    return str(entry["key"])


def _read_blob(archive: zipfile.ZipFile, entry: dict[str, Any]) -> bytes:
    sha256, size = str(entry.get("sha256", "")), entry.get("size")
    name = f"{BLOBS}{sha256}"
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _broken(f"the file {sha256} is missing") from None
    if not isinstance(size, int) or info.file_size != size:
        raise _broken(f"the file {sha256} is {info.file_size} bytes, the document says {size}")
    data = archive.read(name)  # the zip's CRC is checked as it is read
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise _broken(f"the file {sha256} does not match its SHA-256")
    return data


def _check_keys(document: dict[str, Any], blobs: dict[str, bytes]) -> None:
    """Every file key is the workspace's own content address: an archive cannot write
    another workspace's file (nor, see ``import_tenant``, point a row at one)."""
    try:
        scope = TenantScope(uuid.UUID(str(document.get("tenant_id"))))
    except ValueError:
        raise _broken("its workspace id is not a UUID") from None
    for key, data in blobs.items():
        if key != storage_key(scope, hashlib.sha256(data).hexdigest()):
            raise _broken(f"the file key {key!r} is not this workspace's")


async def import_archive(
    session: AsyncSession, box: SecretBox, store: AttachmentStore, path: str | Path
) -> ArchiveSummary:
    """Restore an archive: rows in the caller's transaction, then the blobs into ``store``
    before it commits (see the module doc). Everything is checked first."""
    document, blobs = read_archive(path)
    _check_keys(document, blobs)
    tenant_id = await import_tenant(session, box, document, version=ARCHIVE_VERSION)
    content_types = {
        row["storage_key"]: row.get("content_type") or "application/octet-stream"
        for row in document["tables"].get("attachments", [])
        if row.get("storage_key")
    }
    for key, data in blobs.items():
        await store.put(key, data, content_types.get(key, "application/octet-stream"))
    rows = sum(len(rows) for rows in document["tables"].values())
    return ArchiveSummary(
        tenant_id,
        rows,
        len(blobs),
        sum(len(d) for d in blobs.values()),
        list(document.get("missing_blobs") or []),
    )
