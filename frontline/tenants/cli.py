"""``frontline tenant export|import``: back up one workspace (its rows and its customers'
files) to a zip archive, restore it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any


def cmd_tenant_export(args: argparse.Namespace) -> int:
    """Write the workspace (by slug or id) to the archive ``--out`` (``-``: standard
    output)."""
    from frontline.app import build_services
    from frontline.cli import _settings
    from frontline.errors import AppError
    from frontline.tenants.archive import ArchiveSummary, export_archive
    from frontline.tenants.backup import find_tenant

    settings = _settings()
    to_stdout = args.out == "-"
    target = Path(args.out)
    partial = target.with_name(f".{target.name}.partial")

    async def run() -> ArchiveSummary:
        services = build_services(settings)
        try:
            async with services.db.reader() as session:
                tenant_id = await find_tenant(session, args.tenant)
                if to_stdout:
                    return await export_archive(
                        session,
                        services.secret_box,
                        services.attachments.store,
                        tenant_id,
                        sys.stdout.buffer,
                        with_secrets=args.with_secrets,
                    )
                with partial.open("wb") as out:
                    return await export_archive(
                        session,
                        services.secret_box,
                        services.attachments.store,
                        tenant_id,
                        out,
                        with_secrets=args.with_secrets,
                    )
        finally:
            await services.aclose()

    try:
        summary = asyncio.run(run())
    except AppError as exc:
        partial.unlink(missing_ok=True)
        print(f"frontline: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        partial.unlink(missing_ok=True)
        print(f"frontline: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    if not to_stdout:
        partial.replace(target)  # a complete archive or none under the name asked for
    report = sys.stderr if to_stdout else sys.stdout
    print(
        f"exported {summary.rows} rows and {summary.blobs} files ({summary.blob_bytes} bytes) "
        f"of workspace {summary.tenant_id} to {args.out}",
        file=report,
    )
    for key in summary.missing:
        print(
            f"warning: the attachment store has no file {key}; its record is exported", file=report
        )
    return 0


def cmd_tenant_import(args: argparse.Namespace) -> int:
    """Restore a workspace from a backup archive (or a version 1 JSON export) into this
    installation's database and attachment store."""
    from frontline.app import build_services
    from frontline.cli import _settings
    from frontline.errors import AppError
    from frontline.tenants.archive import import_archive, is_archive
    from frontline.tenants.backup import import_tenant

    settings = _settings()
    try:
        archive = is_archive(args.file)
        document = None if archive else json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"frontline: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2

    async def run() -> str:
        services = build_services(settings)
        try:
            async with services.db.transaction() as session:
                if archive:
                    summary = await import_archive(
                        session, services.secret_box, services.attachments.store, args.file
                    )
                    return f"{summary.tenant_id} ({summary.rows} rows, {summary.blobs} files)"
                return str(await import_tenant(session, services.secret_box, document))
        finally:
            await services.aclose()

    try:
        restored = asyncio.run(run())
    except AppError as exc:
        print(f"frontline: {exc.message}", file=sys.stderr)
        return 1
    print(f"imported workspace {restored}")
    return 0


def add_tenant_parser(sub: Any) -> None:
    tenant = sub.add_parser("tenant", help="back up and restore a workspace")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    export = tenant_sub.add_parser(
        "export", help="write a workspace and its files to a zip archive"
    )
    export.add_argument("tenant", help="the workspace's slug or id")
    export.add_argument("--out", required=True, help="the archive to write (- : standard output)")
    export.add_argument(
        "--with-secrets",
        action="store_true",
        help="include channel secrets and provider keys, decrypted (keep the file safe)",
    )
    export.set_defaults(func=cmd_tenant_export)
    restore = tenant_sub.add_parser("import", help="restore a workspace from a backup archive")
    restore.add_argument("file", help="the archive (or a version 1 JSON export)")
    restore.set_defaults(func=cmd_tenant_import)
