"""``frontline tenant export|import``: back up one workspace to a JSON file, restore it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any


def cmd_tenant_export(args: argparse.Namespace) -> int:
    """Write the workspace (by slug or id) to ``--out`` (``-``: standard output)."""
    from frontline.app import build_services
    from frontline.cli import _settings
    from frontline.errors import AppError
    from frontline.tenants.backup import export_tenant, find_tenant

    settings = _settings()

    async def run() -> dict[str, Any]:
        services = build_services(settings)
        try:
            async with services.db.reader() as session:
                tenant_id = await find_tenant(session, args.tenant)
                return await export_tenant(
                    session, services.secret_box, tenant_id, with_secrets=args.with_secrets
                )
        finally:
            await services.aclose()

    try:
        document = asyncio.run(run())
    except AppError as exc:
        print(f"frontline: {exc.message}", file=sys.stderr)
        return 1
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        rows = sum(len(v) for v in document["tables"].values())
        print(f"exported {rows} rows of workspace {document['tenant_id']} to {args.out}")
    return 0


def cmd_tenant_import(args: argparse.Namespace) -> int:
    """Restore a workspace from an export file into this installation's database."""
    from frontline.app import build_services
    from frontline.cli import _settings
    from frontline.errors import AppError
    from frontline.tenants.backup import import_tenant

    settings = _settings()
    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"frontline: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2

    async def run() -> str:
        services = build_services(settings)
        try:
            async with services.db.transaction() as session:
                return str(await import_tenant(session, services.secret_box, document))
        finally:
            await services.aclose()

    try:
        tenant_id = asyncio.run(run())
    except AppError as exc:
        print(f"frontline: {exc.message}", file=sys.stderr)
        return 1
    print(f"imported workspace {tenant_id}")
    return 0


def add_tenant_parser(sub: Any) -> None:
    tenant = sub.add_parser("tenant", help="back up and restore a workspace")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    export = tenant_sub.add_parser("export", help="write a workspace to a JSON file")
    export.add_argument("tenant", help="the workspace's slug or id")
    export.add_argument("--out", required=True, help="the file to write (- : standard output)")
    export.add_argument(
        "--with-secrets",
        action="store_true",
        help="include channel secrets and provider keys, decrypted (keep the file safe)",
    )
    export.set_defaults(func=cmd_tenant_export)
    restore = tenant_sub.add_parser("import", help="restore a workspace from an export file")
    restore.add_argument("file", help="the export file")
    restore.set_defaults(func=cmd_tenant_import)
