"""Analytics reports on PostgreSQL at 100k conversations / 1M messages (one tenant).

Seeds a fresh database in SQL (``generate_series``): conversations spread over the last
365 days, 10 messages each (customer / AI alternating; a fifth of them handed off, with an
operator's reply), CSAT on some, categories, handoff reasons, and one AI log row per AI
message. Then times every report of :mod:`frontline.analytics.service` - the same
functions the API endpoints call - over a 30-day and a 365-day window, ``--repeat`` times
each, and prints p50/p95 per report.

    python benchmarks/analytics.py [--conversations 100000] [--messages-per 10]
                                   [--repeat 20] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import prepare_postgres  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/frontline_bench_analytics"
REPORTS = ("summary", "timeline", "volume", "handoff_reasons", "categories", "unanswered", "usage")


async def seed(url: str, conversations: int, per: int) -> uuid.UUID:
    from sqlalchemy import text

    from frontline.kit.db import Database

    db = Database(url)
    tenant = uuid.uuid4()
    channel = uuid.uuid4()
    contact = uuid.uuid4()
    category = uuid.uuid4()
    params = {"t": tenant, "ch": channel, "co": contact, "cat": category, "n": conversations}
    statements = [
        "INSERT INTO tenants (id, name, slug, locale, settings, created_at, limits) "
        "VALUES (:t, 'Bench', 'bench', 'ru', '{}', now(), '{}')",
        "INSERT INTO channels (id, tenant_id, type, name, config_encrypted, secret_encrypted, "
        "is_active, created_at) VALUES (:ch, :t, 'api', 'api', '', '', true, now())",
        "INSERT INTO contacts (id, tenant_id, name, ai_enabled, attributes, created_at, "
        "updated_at) VALUES (:co, :t, 'Bench', true, '{}', now(), now())",
        "INSERT INTO categories (id, tenant_id, name, description, created_at) "
        "VALUES (:cat, :t, 'Оплата', '', now())",
        # i: 1..n; created over the last 365 days; every 5th handed off; every 7th rated
        """INSERT INTO conversations (tenant_id, channel_id, contact_id, status, priority,
             category_id, subject, handoff_reason, last_activity_at, created_at, updated_at,
             resolved_at, csat_rating, handed_off_at, reopened_soon)
           SELECT :t, :ch, :co, CASE WHEN i % 10 = 0 THEN 'bot' ELSE 'resolved' END, 'normal',
             CASE WHEN i % 3 = 0 THEN CAST(:cat AS uuid) END, '',
             CASE WHEN i % 5 = 0 THEN (CASE WHEN i % 2 = 0
                  THEN 'No confident answer in the knowledge base (confidence 0.1)'
                  ELSE 'Customer asked for a person' END) END,
             ts, ts, ts,
             CASE WHEN i % 10 = 0 THEN NULL ELSE ts + interval '20 minutes' END,
             CASE WHEN i % 7 = 0 THEN 1 + i % 5 END,
             CASE WHEN i % 5 = 0 THEN ts + interval '30 seconds' END,
             i % 50 = 0
           FROM (SELECT i, now() - (i * (365 * 86400.0 / :n)) * interval '1 second' AS ts
                 FROM generate_series(1, :n) AS i) s""",
    ]
    message_sql = """
        INSERT INTO messages (tenant_id, conversation_id, channel_id, sender_type, is_internal,
             text, meta, delivery_status, created_at)
        SELECT :t, c.id, :ch,
             CASE WHEN k % 2 = 1 THEN 'contact'
                  WHEN c.handed_off_at IS NOT NULL AND k = :per THEN 'operator'
                  ELSE 'ai' END,
             false,
             CASE WHEN k = 1 THEN 'question number ' || (c.id % 300) ELSE 'text ' || k END,
             '{}', 'sent', c.created_at + k * interval '9 seconds'
        FROM conversations c, generate_series(1, :per) AS k WHERE c.tenant_id = :t"""
    calls_sql = """
        INSERT INTO ai_calls (tenant_id, conversation_id, provider, model, prompt, answer,
             tokens_in, tokens_out, latency_ms, cost, created_at)
        SELECT :t, m.conversation_id, CASE WHEN m.id % 3 = 0 THEN 'openai' ELSE 'offline' END,
             'm', '[]', '', 300, 80, 120, 0.0004, m.created_at
        FROM messages m WHERE m.tenant_id = :t AND m.sender_type = 'ai'"""
    started = time.perf_counter()
    async with db.transaction() as session:
        for sql in statements:
            await session.execute(text(sql), params)
        await session.execute(text(message_sql), {"t": tenant, "ch": channel, "per": per})
        await session.execute(text(calls_sql), {"t": tenant})
    async with db.transaction() as session:
        await session.execute(text("ANALYZE"))
    await db.dispose()
    print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return tenant


async def seeded_tenant(url: str) -> uuid.UUID:
    from sqlalchemy import text

    from frontline.kit.db import Database

    db = Database(url)
    async with db.reader() as session:
        found = (
            await session.execute(text("SELECT id FROM tenants WHERE slug = 'bench'"))
        ).scalar_one()
    await db.dispose()
    return uuid.UUID(str(found))


async def measure(url: str, tenant: uuid.UUID, repeat: int) -> list[tuple[str, str, float, float]]:
    """Every report as the API runs it, plus (``* raw``) the summary's and timeline's
    queries computed from the conversations and messages instead of the roll-ups
    (``analytics_conversations``, ``analytics_hourly``) - the way they ran before them
    (the numbers are equal, see tests/analytics/test_rollups.py)."""
    from frontline.analytics import service
    from frontline.analytics.repository import AnalyticsRepository
    from frontline.kit.db import Database
    from frontline.kit.repository import TenantScope
    from frontline.kit.time import utcnow

    db = Database(url)
    scope = TenantScope(tenant)
    today = utcnow().date()
    rows = []
    for label, days in (("30 days", 30), ("365 days", 365)):
        rng, window = service.resolve_range(today - timedelta(days=days - 1), today, None)
        for name in REPORTS:
            report = getattr(service, name)
            timings = []
            for _ in range(repeat + 1):
                async with db.reader() as session:
                    started = time.perf_counter()
                    await report(session, scope, rng, window)
                    timings.append((time.perf_counter() - started) * 1000)
            timings = sorted(timings[1:])  # the first run warms the caches
            p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
            rows.append((label, name, statistics.median(timings), p95))
        for name in ("totals", "timeline"):
            timings = []
            for _ in range(repeat + 1):
                async with db.reader() as session:
                    raw = AnalyticsRepository(session, scope, from_messages=True)
                    started = time.perf_counter()
                    await getattr(raw, name)(window)
                    timings.append((time.perf_counter() - started) * 1000)
            timings = sorted(timings[1:])
            p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
            rows.append((label, f"{name} raw", statistics.median(timings), p95))
    await db.dispose()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database an earlier run seeded"
    )
    args = parser.parse_args()
    from frontline.migrate import upgrade

    if args.reuse:
        tenant = await seeded_tenant(args.database_url)
    else:
        await prepare_postgres(args.database_url)
        await asyncio.to_thread(upgrade, args.database_url)
        tenant = await seed(args.database_url, args.conversations, args.messages_per)
    load_before = os.getloadavg()[0]
    rows = await measure(args.database_url, tenant, args.repeat)
    load_after = os.getloadavg()[0]
    total = args.conversations * args.messages_per
    print(
        f"analytics on PostgreSQL: {args.conversations} conversations, {total} messages, "
        f"{args.repeat} runs each; load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(f"{'window':<10} {'report':<16} {'p50 ms':>8} {'p95 ms':>8}")
    for label, name, p50, p95 in rows:
        print(f"{label:<10} {name:<16} {p50:>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
