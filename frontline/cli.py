"""The ``frontline`` command: serve, worker, migrate, create-tenant, create-user, demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from frontline import runtime
from frontline.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from frontline.demo import DemoInfo
    from frontline.deps import Services


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # invalid configuration: say what, no stack trace
        print(f"frontline: invalid settings: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_migrate(_args: argparse.Namespace) -> int:
    from frontline.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from frontline.app import build_services, create_app
    from frontline.kit.logging import configure_logging
    from frontline.migrate import upgrade

    base = f"http://{args.host}:{args.port}"
    settings = runtime.for_serve(_settings(), base)
    configure_logging(settings.log_level, settings.log_json)
    if not args.no_migrate:
        upgrade(settings.database_url)
    print(f"Frontline is starting on {base}", flush=True)
    print(f"  API docs:  {base}/docs", flush=True)
    print(f"  Health:    {base}/health   Metrics: {base}/metrics", flush=True)
    if not args.no_demo:
        services = build_services(settings)
        info = asyncio.run(_demo_and_close(services))
        print(f"  Demo workspace (tenant {info.tenant_id})", flush=True)
        print(f"    admin:    {info.admin_email} / {info.admin_password}", flush=True)
        print(f"    operator: {info.operator_email} / {info.operator_password}", flush=True)
        print(
            f"    API channel:   {base}/api/v1/channels/{info.api_channel_id}/messages", flush=True
        )
        print(f"                   Authorization: Bearer {info.api_channel_secret}", flush=True)
        print(
            f"    E-mail webhook: {base}/api/v1/webhooks/email/{info.email_channel_id}", flush=True
        )
        print(f"    Web chat demo page: {base}/demo   (widget key {info.widget_key})", flush=True)
        print(f"    Operator console:   {base}/console", flush=True)
    app = create_app(settings, run_worker=False if args.no_worker else None)
    _tune_gc()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        # the client address behind a proxy (sign-in throttling counts per address)
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


async def _demo_and_close(services: Services) -> DemoInfo:
    from frontline.demo import ensure_demo

    try:
        return await ensure_demo(services)
    finally:
        await services.aclose()


def _tune_gc() -> None:
    """Long-lived start-up objects (modules, app, ORM mappings) are moved out of the
    collector's sight and young-generation collections are made rarer: full collections
    over them were the main source of request latency spikes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def cmd_doctor(args: argparse.Namespace) -> int:
    from frontline.doctor import diagnose, load_settings, render

    settings, findings = load_settings()
    if settings is not None:
        findings += asyncio.run(diagnose(settings))
    print(render(findings, as_json=args.json))
    return 1 if any(f.level == "error" for f in findings) else 0


def cmd_worker(_args: argparse.Namespace) -> int:
    from frontline.app import build_services, build_worker, mail_poller_for
    from frontline.jobs.metrics import serve_worker_metrics
    from frontline.kit.logging import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> None:
        services = build_services(settings)
        worker = build_worker(services)
        mail = mail_poller_for(services)
        _tune_gc()
        loop = asyncio.get_running_loop()

        def stop() -> None:
            worker.stop()
            if mail:
                mail.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        metrics = serve_worker_metrics(services)
        try:
            if mail:
                await asyncio.gather(worker.run(), mail.run())
            else:
                await worker.run()
        finally:
            if metrics is not None:
                metrics.stop()
            await services.aclose()

    asyncio.run(run())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from frontline.app import build_services
    from frontline.demo import to_json
    from frontline.migrate import upgrade

    settings = runtime.for_demo(_settings())
    upgrade(settings.database_url)
    info = asyncio.run(_demo_and_close(build_services(settings)))
    if args.json:
        print(to_json(info))
    else:
        for key, value in info.as_dict().items():
            print(f"{key}: {value}")
    return 0


def _in_transaction(work: Callable[[AsyncSession], Awaitable[dict[str, str]]]) -> int:
    """Run ``work`` in one transaction and print its result as JSON; expected problems
    (an existing slug, an unknown tenant) are one line on stderr and exit code 1."""
    from frontline.app import build_services
    from frontline.errors import AppError

    services = build_services(_settings())

    async def run() -> dict[str, str]:
        try:
            async with services.db.transaction() as session:
                return await work(session)
        finally:
            await services.aclose()

    try:
        result = asyncio.run(run())
    except AppError as exc:
        print(f"frontline: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_create_tenant(args: argparse.Namespace) -> int:
    from frontline.kit.repository import TenantScope
    from frontline.models import Role
    from frontline.tenants import service as tenants

    async def work(session: AsyncSession) -> dict[str, str]:
        tenant = await tenants.create_tenant(
            session, name=args.name, slug=args.slug, locale=args.locale
        )
        await tenants.add_member(
            session,
            TenantScope(tenant.id),
            email=args.owner_email,
            password=args.owner_password,
            role=Role.OWNER,
            name=args.owner_name or "",
        )
        return {"tenant_id": str(tenant.id), "slug": args.slug}

    return _in_transaction(work)


def cmd_create_user(args: argparse.Namespace) -> int:
    from frontline.errors import AppError
    from frontline.kit.repository import TenantScope
    from frontline.models import Role
    from frontline.tenants import service as tenants

    async def work(session: AsyncSession) -> dict[str, str]:
        tenant = await tenants.by_slug_or_id(session, args.tenant)
        if tenant is None:
            raise AppError(f"no tenant {args.tenant!r}")
        user = await tenants.add_member(
            session,
            TenantScope(tenant.id),
            email=args.email,
            password=args.password,
            role=Role(args.role),
            name=args.name or "",
            is_superadmin=args.superadmin,
        )
        return {"user_id": str(user.id), "email": user.email}

    return _in_transaction(work)


def cmd_eval(args: argparse.Namespace) -> int:
    from frontline.ai.offline import evaluate

    forwarded = ["--data", str(args.data)] + (["--json"] if args.json else [])
    if args.limit is not None:
        forwarded += ["--limit", str(args.limit)]
    return evaluate.main(forwarded)


def _kb_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {raw}")
    return files


def cmd_kb_ingest(args: argparse.Namespace) -> int:
    """Upload files (or every file under a directory) into a tenant's knowledge base and
    ingest them here, with a progress bar; one JSON line per file at the end."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from frontline.app import build_services
    from frontline.errors import AppError
    from frontline.kit.repository import TenantScope
    from frontline.knowledge import service as knowledge
    from frontline.knowledge.parsing import ParseLimits
    from frontline.tenants import service as tenants

    try:
        files = _kb_files(args.paths)
    except FileNotFoundError as exc:
        print(f"frontline: {exc}", file=sys.stderr)
        return 1
    settings = _settings()
    services = build_services(settings)
    limits = knowledge.Limits(
        max_file_bytes=settings.knowledge_max_file_bytes,
        max_tenant_bytes=settings.knowledge_max_tenant_bytes,
    )
    results: list[dict[str, Any]] = []

    async def run() -> int:
        async with services.db.transaction() as session:
            tenant = await tenants.by_slug_or_id(session, args.tenant)
            if tenant is None:
                raise AppError(f"no tenant {args.tenant!r}")
            scope = TenantScope(tenant.id)
        failed = 0
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=Console(stderr=True),  # stdout carries the JSON results
            disable=args.quiet,
        ) as progress:
            overall = progress.add_task("files", total=len(files), status="")
            for path in files:
                task = progress.add_task(path.name[:40], total=None, status="")
                try:
                    async with services.db.transaction() as session:
                        doc = await knowledge.upload(
                            session,
                            scope,
                            path.read_bytes(),
                            filename=path.name,
                            limits=limits,
                            queue_job=False,
                        )
                        doc_id, revision = doc.id, doc.revision

                    def on_page(done: int, total: int, task: Any = task) -> None:
                        progress.update(task, completed=done, total=total, status="pages")

                    status = await knowledge.ingest(
                        services.db,
                        scope,
                        doc_id,
                        revision,
                        parse_limits=ParseLimits(max_bytes=limits.max_file_bytes),
                        on_progress=on_page,
                    )
                    async with services.db.transaction() as session:
                        doc = await knowledge.get_document(session, scope, doc_id)
                    result = {
                        "file": str(path),
                        "document_id": doc_id,
                        "status": status,
                        "pages": doc.pages_total,
                        "chunks": doc.chunks_done,
                        "reason": doc.failure_reason,
                    }
                except AppError as exc:
                    result = {"file": str(path), "status": "rejected", "reason": exc.message}
                failed += result["status"] != "ready"
                results.append(result)
                progress.update(task, total=1, completed=1, status=str(result["status"]))
                progress.advance(overall)
        return failed

    async def main() -> int:
        try:
            return await run()
        finally:
            await services.aclose()

    try:
        failed = asyncio.run(main())
    except AppError as exc:
        print(f"frontline: {exc.message}", file=sys.stderr)
        return 1
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from frontline.knowledge import rerank
    from frontline.knowledge.evaluate import (
        default_embedder,
        evaluate_offline_answers,
        evaluate_retrieval,
        render_offline_table,
        render_table,
    )

    data = Path(args.data)
    folder = data / "xquad_r_ru_en" if (data / "xquad_r_ru_en").is_dir() else data
    if not (folder / "queries.jsonl").is_file():
        print(f"frontline: no XQuAD-R data in {data}", file=sys.stderr)
        return 1
    rerank.set_enabled(_settings().knowledge_semantic_rerank)
    embed = default_embedder()  # the semantic re-rank, when its packages are installed
    if embed is not None and args.cache:
        embed = rerank.cached(embed, Path(args.cache))
    metrics = evaluate_retrieval(folder, embed=embed)
    offline = evaluate_offline_answers(folder, args.limit, embed=embed)
    if args.json:
        print(json.dumps(metrics | offline))
    else:
        print(render_table(metrics), render_offline_table(offline), sep="\n\n")
    return 0


def cmd_eval_booking(args: argparse.Namespace) -> int:
    from frontline.bookings.evaluation import render, run

    data = Path(args.data)
    report = run(data, args.limit)
    if not report:
        print(f"frontline: no booking data sets in {data}", file=sys.stderr)
        return 1
    print(json.dumps(report) if args.json else render(report))
    return 0


def cmd_eval_answers(args: argparse.Namespace) -> int:
    from frontline.knowledge import rerank
    from frontline.knowledge.evaluate_answers import evaluate_answers, load_qa, render

    rerank.set_enabled(_settings().knowledge_semantic_rerank)
    qa = load_qa(Path(args.qa)) if args.qa else None
    report = evaluate_answers(qa)
    if args.json:
        print(json.dumps(report.metrics()))
    else:
        print(render(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontline", description="AI-first customer support platform"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API server (and, embedded, the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-demo", action="store_true", help="do not create the demo workspace")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not run the job worker in-process"
    )
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not migrate the database on start"
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a background job worker")
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(func=cmd_migrate)

    doctor = sub.add_parser(
        "doctor", help="check the configuration (database, Redis, secrets, public URL)"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.set_defaults(func=cmd_doctor)

    ct = sub.add_parser("create-tenant", help="create a workspace with its owner")
    ct.add_argument("--name", required=True)
    ct.add_argument("--slug", required=True)
    ct.add_argument("--locale", default="ru", choices=["ru", "en"])
    ct.add_argument("--owner-email", required=True)
    ct.add_argument("--owner-password", required=True)
    ct.add_argument("--owner-name")
    ct.set_defaults(func=cmd_create_tenant)

    cu = sub.add_parser("create-user", help="create a staff user in a workspace")
    cu.add_argument("--tenant", required=True, help="tenant id or slug")
    cu.add_argument("--email", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--role", default="operator", choices=["owner", "admin", "operator"])
    cu.add_argument("--name")
    cu.add_argument("--superadmin", action="store_true", help="also a platform superadmin")
    cu.set_defaults(func=cmd_create_user)

    demo = sub.add_parser(
        "demo", help="create the demo workspace if missing and print its credentials"
    )
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=cmd_demo)

    ev = sub.add_parser("eval", help="measure the AI on public data sets")
    ev_sub = ev.add_subparsers(dest="target", required=True)
    triage = ev_sub.add_parser("triage", help="the offline engine on CLINC150 and NLU++")
    triage.add_argument("--data", required=True, help="the eval-data folder")
    triage.add_argument("--json", action="store_true", help="print one JSON object")
    triage.add_argument("--limit", type=int, default=None, help="first N lines of each file")
    triage.set_defaults(func=cmd_eval)
    retrieval = ev_sub.add_parser(
        "retrieval", help="knowledge search on XQuAD-R (ru, en), with a bm25s baseline"
    )
    retrieval.add_argument("--data", required=True, help="the eval-data folder")
    retrieval.add_argument("--json", action="store_true", help="print one JSON object")
    retrieval.add_argument(
        "--limit", type=int, default=None, help="offline answering: first N questions per language"
    )
    retrieval.add_argument(
        "--cache",
        default=None,
        help="a folder that keeps the passages' re-rank vectors between runs (by model and text)",
    )
    retrieval.set_defaults(func=cmd_eval_retrieval)
    answers = ev_sub.add_parser(
        "answers", help="the offline engine answering a QA set over the demo knowledge base"
    )
    answers.add_argument(
        "--qa", default=None, help="a QA set (JSON lines) instead of the demo's own"
    )
    answers.add_argument("--json", action="store_true", help="print one JSON object")
    answers.set_defaults(func=cmd_eval_answers)
    booking = ev_sub.add_parser(
        "booking", help="booking slot extraction on Restaurant-8k, RU MultiWOZ and SGD"
    )
    booking.add_argument("--data", required=True, help="the eval-data folder")
    booking.add_argument("--json", action="store_true", help="print one JSON object")
    booking.add_argument("--limit", type=int, default=None, help="first N lines of each file")
    booking.set_defaults(func=cmd_eval_booking)

    kb = sub.add_parser("kb", help="the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    ingest = kb_sub.add_parser("ingest", help="upload and ingest files into a tenant's base")
    ingest.add_argument("--tenant", required=True, help="tenant id or slug")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("paths", nargs="+", help="files or directories")
    ingest.set_defaults(func=cmd_kb_ingest)

    tg = sub.add_parser("telegram", help="Telegram channels")
    tg_sub = tg.add_subparsers(dest="telegram_command", required=True)
    poll = tg_sub.add_parser(
        "poll", help="read updates with getUpdates long polling (channels in poll mode)"
    )
    poll.add_argument(
        "--channel", action="append", default=None, help="a channel id (repeat; default: all)"
    )
    poll.set_defaults(func=cmd_telegram_poll)
    from frontline.mail.cli import add_mail_parser
    from frontline.tenants.cli import add_tenant_parser

    add_mail_parser(sub)
    add_tenant_parser(sub)
    return parser


def cmd_telegram_poll(args: argparse.Namespace) -> int:
    """Long-poll the Telegram channels whose mode is ``poll`` until SIGINT/SIGTERM."""
    import uuid

    from frontline.app import build_services
    from frontline.channels.telegram.poll import run_pollers
    from frontline.kit.logging import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        ids = [uuid.UUID(c) for c in args.channel or []]
    except ValueError:
        print("--channel must be a channel id (UUID)", file=sys.stderr)
        return 2

    async def run() -> int:
        services = build_services(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await run_pollers(
                services.db,
                services.secret_box,
                services.adapter_options,
                stop,
                ids or None,
                limits=services.inbound_limits,
            )
        finally:
            await services.aclose()

    if asyncio.run(run()) == 0:
        print("no Telegram channel or alert bot in poll mode", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
