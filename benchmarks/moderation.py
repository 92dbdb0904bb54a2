"""Moderation's cost: the detectors per message, and the inbound path with moderation on
(the defaults: profanity and link-only checks, plus one query for the contact's recent
messages for the flood and spam rules) against every rule off.

The inbound path is :func:`frontline.conversations.flows.ingest` - what every channel calls
- one message at a time, ``--contacts`` contacts taking turns (each sends a message every
``--contacts`` messages, with a growing history; clean traffic, so no rule fires: a flagged
or held message costs a conversation update and an audit row more), on a fresh SQLite file and, with
``--database-url``, a PostgreSQL database. Prints p50/p95 per message and the ratio.

    python benchmarks/moderation.py [--messages 300] [--contacts 50]
                                    [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import prepare_postgres  # noqa: E402

TEXTS = [
    "Здравствуйте! Хочу забронировать тур на 3 дня, 2 взрослых и 1 ребенок",
    "Как отменить бронь?",
    "Скидка для детей?",
    "Please send the link to pay",
    "Когда будет возврат денег за отменённую поездку в Карелию?",
    "Can I bring my dog to the cottage? We arrive on Friday evening.",
    "Где мой тур, блин, уже неделю жду ответа",
    "Do you have a transfer from the airport to the hotel?",
]
OFF = {"profanity": "off", "flood": "off", "spam": "off", "link_only": "off"}


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def detectors(rounds: int) -> list[tuple[str, float, float]]:
    """Microseconds per message for the profanity check and for the whole verdict with a
    20-message history."""
    from frontline.ai.moderation import ModerationSettings, Recent, find_profanity, moderate

    now = datetime.now(UTC)
    history = [Recent(now - timedelta(seconds=5 * i), TEXTS[i % len(TEXTS)]) for i in range(20)]
    settings = ModerationSettings()
    rows = []
    for name, call in (
        ("profanity only", lambda text: find_profanity(text)),
        ("verdict, 20 recent", lambda text: moderate(text, history, now, settings)),
    ):
        samples = []
        for _ in range(rounds):
            for text in TEXTS:
                start = time.perf_counter()
                call(text)
                samples.append((time.perf_counter() - start) * 1e6)
        p50, p95 = _quantiles(samples)
        rows.append((name, p50, p95))
    return rows


async def inbound(url: str, messages: int, contacts: int) -> dict[str, tuple[float, float]]:
    from frontline.ai.moderation import ModerationSettings
    from frontline.channels import service as channels
    from frontline.channels.base import ChannelType, InboundContact, InboundMessage
    from frontline.conversations import flows
    from frontline.kit.crypto import SecretBox
    from frontline.kit.db import Database
    from frontline.kit.repository import TenantScope
    from frontline.models import AiSettings
    from frontline.tenants import service as tenants

    db = Database(url)
    box = SecretBox(["bench-secret-key-0123456789abcdef0123456789"])
    setups = {
        "moderation on (defaults)": ModerationSettings().model_dump(mode="json"),
        "moderation off": OFF,
    }
    targets: dict[str, tuple[TenantScope, uuid.UUID]] = {}
    samples: dict[str, list[float]] = {label: [] for label in setups}
    try:
        for label, moderation in setups.items():
            async with db.transaction() as s:
                slug = f"bench-{uuid.uuid4().hex[:8]}"
                tenant = await tenants.create_tenant(s, name=slug, slug=slug)
                # the AI off: no AI jobs, so only the inbound path is timed
                s.add(AiSettings(tenant_id=tenant.id, ai_enabled=False, moderation=moderation))
                scope = TenantScope(tenant.id)
                channel, _ = await channels.create_channel(
                    s, scope, box, channel_type=ChannelType.API, name="api", config={}
                )
                targets[label] = (scope, channel.id)
        # the two workspaces take turns, so load changes on the machine hit both alike
        for i in range(messages):
            for label, (scope, channel_id) in targets.items():
                # clean traffic: no contact repeats a text often enough to be spam nor
                # sends enough to flood (at most 7 messages per contact), so no rule fires
                # and what is timed is the checking itself
                contact, turn = i % contacts, i // contacts
                message = InboundMessage(
                    external_id=uuid.uuid4().hex,
                    contact=InboundContact(external_id=f"c{contact}"),
                    text=TEXTS[(contact + turn) % len(TEXTS)],
                )
                start = time.perf_counter()
                await flows.ingest(db, scope, channel_id, "api", message)
                if i >= contacts:  # the first messages create the contacts
                    samples[label].append((time.perf_counter() - start) * 1000)
    finally:
        await db.dispose()
    return {label: _quantiles(values) for label, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.messages > 7 * args.contacts:
        parser.error("at most 7 messages per contact (more would be a flood)")

    from frontline.migrate import upgrade

    print("| detector | p50 µs | p95 µs |")
    print("| --- | --- | --- |")
    for name, p50, p95 in detectors(args.rounds):
        print(f"| {name} | {p50:.1f} | {p95:.1f} |")
    urls = []
    with tempfile.TemporaryDirectory() as folder:
        urls.append(("sqlite", f"sqlite+aiosqlite:///{folder}/bench.db"))
        if args.database_url:
            asyncio.run(prepare_postgres(args.database_url))
            urls.append(("postgres", args.database_url))
        print()
        print("| database | inbound path | p50 ms | p95 ms |")
        print("| --- | --- | --- | --- |")
        for name, url in urls:
            upgrade(url)
            results = asyncio.run(inbound(url, args.messages, args.contacts))
            for label, (p50, p95) in results.items():
                print(f"| {name} | {label} | {p50:.2f} | {p95:.2f} |")
            on, off = results["moderation on (defaults)"], results["moderation off"]
            print(f"| {name} | ratio on/off | {on[0] / off[0]:.2f} | {on[1] / off[1]:.2f} |")


if __name__ == "__main__":
    main()
