"""``frontline mail poll``: fetch mailbox channels' new mail now, or keep polling."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import uuid
from typing import Any


def cmd_mail_poll(args: argparse.Namespace) -> int:
    """One round over every active mailbox channel (or ``--channel``), a JSON line per
    mailbox; ``--loop`` repeats every ``FRONTLINE_MAIL_POLL_SECONDS`` until interrupted.
    Exit status 1 when a mailbox failed (in one round)."""
    from frontline.app import build_services
    from frontline.cli import _settings
    from frontline.kit.logging import configure_logging
    from frontline.mail.runner import MailPoller
    from frontline.mail.service import poll_all

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        channel_id = uuid.UUID(args.channel) if args.channel else None
    except ValueError:
        print(f"frontline: --channel is not a channel id: {args.channel!r}", file=sys.stderr)
        return 2

    async def run() -> int:
        services = build_services(settings)
        try:
            if args.loop:
                interval = settings.mail_poll_seconds or 60.0
                poller = MailPoller(
                    services.db,
                    services.secret_box,
                    interval,
                    settings.mail_poll_batch,
                    services.inbound_limits,
                )
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, poller.stop)
                await poller.run()
                return 0
            reports = await poll_all(
                services.db,
                services.secret_box,
                settings.mail_poll_batch,
                channel_id,
                limits=services.inbound_limits,
            )
            for report in reports:
                print(json.dumps(report.as_dict(), ensure_ascii=False))
            if channel_id and not reports:
                print("frontline: no active mailbox channel with that id", file=sys.stderr)
                return 1
            return 1 if any(r.error for r in reports) else 0
        finally:
            await services.aclose()

    return asyncio.run(run())


def add_mail_parser(sub: Any) -> None:
    mail = sub.add_parser("mail", help="mailbox channels (IMAP in, SMTP out)")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True)
    poll = mail_sub.add_parser("poll", help="fetch new mail of the mailbox channels")
    poll.add_argument("--channel", help="only this channel id")
    poll.add_argument("--loop", action="store_true", help="keep polling until interrupted")
    poll.set_defaults(func=cmd_mail_poll)
