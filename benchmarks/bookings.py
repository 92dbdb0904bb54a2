"""Bookings: availability search over 1,000 resources with a year of bookings, and the
concurrent last-place race.

1. Availability: a tenant with ``--resources`` nightly rentals (1,000), each booked back to
   back with stays of 1-6 nights and gaps of 0-3 nights over a year (about 90,000
   bookings), plus a tour with weekly departures. ``--searches`` random searches (a start
   in that year, 1-7 nights, 1-4 guests) run the same query as ``GET /availability``
   (rentals with a unit free for the whole stay, departures with enough free places);
   printed: p50 and p99 latency.
2. Last place: ``--rounds`` departures with one free place each; per round 50 concurrent
   transactions try to book it through the service (the same path as ``POST /bookings``:
   row lock, count, insert). Printed: attempts/s and winners per round (must be 1).

Runs in this process against SQLite (a temporary file) or PostgreSQL (``--pg-url``, a
database it drops and creates: give it a bench database of your own).

    python benchmarks/bookings.py [--database sqlite|postgres|both] [--resources 1000]
                                  [--searches 300] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.ingest import prepare_postgres  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_bookings"
CONCURRENT = 50


async def _seed(db: object, resources: int) -> tuple[object, datetime]:
    from frontline.kit.db import Database
    from frontline.kit.repository import TenantScope
    from frontline.models import Booking, Departure, Resource, Tenant

    assert isinstance(db, Database)
    rng = random.Random(7)
    tenant_id = uuid.uuid4()
    origin = datetime.now(UTC).replace(hour=14, minute=0, second=0, microsecond=0)
    origin += timedelta(days=1)
    async with db.transaction() as session:
        session.add(Tenant(id=tenant_id, name="Bench", slug=f"bench-{tenant_id.hex[:8]}"))
        await session.flush()
        rows, bookings = [], []
        for i in range(resources):
            rid = uuid.uuid4()
            rows.append(
                {
                    "id": rid,
                    "tenant_id": tenant_id,
                    "name": f"House {i:04d}",
                    "kind": "house",
                    "availability": "nightly",
                    "description": "",
                    "capacity": 2 + i % 6,
                    "units": 1,
                    "price": Decimal(5000),
                    "per_person": False,
                    "currency": "RUB",
                    "timezone": "Europe/Moscow",
                    "template_id": None,
                    "overrides": {},
                    "notes": "",
                    "active": True,
                    "ical_token": uuid.uuid4().hex,
                    "created_at": origin,
                }
            )
            day = rng.randint(0, 3)
            while day < 365:
                nights = rng.randint(1, 6)
                start = origin + timedelta(days=day)
                bookings.append(
                    {
                        "tenant_id": tenant_id,
                        "resource_id": rid,
                        "status": "confirmed",
                        "starts_at": start,
                        "ends_at": start + timedelta(days=nights, hours=-2),
                        "adults": 2,
                        "children": 0,
                        "customer_name": "",
                        "total_price": Decimal(5000 * nights),
                        "currency": "RUB",
                        "locale": "ru",
                        "notes": "",
                        "created_at": origin,
                        "updated_at": origin,
                    }
                )
                day += nights + rng.randint(0, 3)
        await session.execute(Resource.__table__.insert(), rows)
        for at in range(0, len(bookings), 5000):
            await session.execute(Booking.__table__.insert(), bookings[at : at + 5000])
        tour = uuid.uuid4()
        await session.execute(
            Resource.__table__.insert(),
            [{**rows[0], "id": tour, "name": "Tour", "kind": "tour",
              "availability": "departures", "capacity": 1, "ical_token": uuid.uuid4().hex}],
        )  # fmt: skip
        await session.execute(
            Departure.__table__.insert(),
            [{"id": uuid.uuid4(), "tenant_id": tenant_id, "resource_id": tour,
              "starts_at": origin + timedelta(weeks=w), "ends_at": origin + timedelta(weeks=w, days=3),  # noqa: E501
              "capacity": 20, "price": None, "created_at": origin} for w in range(52)],
        )  # fmt: skip
    async with db.transaction() as session:  # planner statistics, as after a day in production
        await session.execute(text("ANALYZE"))
    print(f"  seeded {resources} resources, {len(bookings)} bookings", file=sys.stderr)
    return TenantScope(tenant_id), origin


async def _availability(db: object, scope: object, origin: datetime, searches: int) -> list[float]:
    from frontline.bookings import schedule
    from frontline.kit.db import Database
    from frontline.kit.repository import TenantScope

    assert isinstance(db, Database) and isinstance(scope, TenantScope)
    rng = random.Random(11)
    times = []
    for _ in range(searches):
        start = origin + timedelta(days=rng.randint(0, 360))
        end = start + timedelta(days=rng.randint(1, 7))
        began = time.perf_counter()
        async with db.reader() as session:
            await schedule.search_availability(session, scope, start, end, rng.randint(1, 4))
        times.append((time.perf_counter() - began) * 1000)
    return times


async def _race(db: object, scope: object, rounds: int) -> tuple[float, list[int]]:
    from frontline.bookings import service
    from frontline.bookings.schemas import BookingIn
    from frontline.errors import AppError
    from frontline.kit.db import Database
    from frontline.kit.repository import TenantScope
    from frontline.models import Departure, Resource

    assert isinstance(db, Database) and isinstance(scope, TenantScope)
    async with db.transaction() as session:
        rid = uuid.uuid4()
        session.add(
            Resource(id=rid, tenant_id=scope.tenant_id, name=f"Race {rid.hex[:6]}", kind="tour",
                     availability="departures", capacity=1, price=Decimal(100),
                     ical_token=uuid.uuid4().hex, description="", units=1, per_person=True,
                     currency="RUB", timezone="UTC", overrides={}, notes="", active=True)
        )  # fmt: skip
        await session.flush()
        departures = []
        for r in range(rounds):
            start = datetime.now(UTC) + timedelta(days=10 + r)
            d = Departure(id=uuid.uuid4(), tenant_id=scope.tenant_id, resource_id=rid,
                          starts_at=start, ends_at=start + timedelta(days=1))  # fmt: skip
            session.add(d)
            departures.append(d.id)

    async def attempt(departure_id: uuid.UUID) -> bool:
        body = BookingIn(resource_id=rid, departure_id=departure_id, adults=1)
        try:
            async with db.transaction() as session:
                await service.create_booking(session, scope, body)
            return True
        except AppError:
            return False

    winners = []
    began = time.perf_counter()
    for departure_id in departures:
        results = await asyncio.gather(*(attempt(departure_id) for _ in range(CONCURRENT)))
        winners.append(sum(results))
    elapsed = time.perf_counter() - began
    return rounds * CONCURRENT / elapsed, winners


async def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    from frontline.kit.db import Database
    from frontline.migrate import upgrade

    if url.startswith("postgresql"):
        await prepare_postgres(url)
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        scope, origin = await _seed(db, args.resources)
        times = await _availability(db, scope, origin, args.searches)
        rate, winners = await _race(db, scope, args.rounds)
    finally:
        await db.dispose()
    times.sort()
    return {
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "rate": rate,
        "winners": sorted(set(winners)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    urls = []
    if args.database in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="bench-bookings-")
        urls.append(("sqlite", f"sqlite+aiosqlite:///{folder}/bookings.db"))
    if args.database in ("postgres", "both"):
        urls.append(("postgres", args.pg_url))
    print(f"{'database':<10} {'search p50 ms':>14} {'search p99 ms':>14} "
          f"{'last-place attempts/s':>22} {'winners/round':>14}")  # fmt: skip
    for name, url in urls:
        result = asyncio.run(run(url, args))
        print(
            f"{name:<10} {result['p50']:>14.2f} {result['p99']:>14.2f} "
            f"{result['rate']:>22.0f} {result['winners']!s:>14}"
        )


if __name__ == "__main__":
    main()
