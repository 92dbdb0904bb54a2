"""The queue's gauges: jobs by state, and per kind the jobs due now, the oldest one's age
(lag) and dead jobs. The API samples them when ``/metrics`` is scraped; a worker that serves
metrics (``FRONTLINE_WORKER_METRICS_PORT``) samples them every few seconds. Both read the
whole database, so a dashboard takes ``max`` over instances, not ``sum``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from frontline.jobs import queue
from frontline.kit.db import Database
from frontline.kit.metrics import jobs_by_state, jobs_dead, jobs_lag, jobs_ready
from frontline.kit.time import utcnow
from frontline.models.jobs import JobStatus

log = logging.getLogger(__name__)

# kinds reported once: they keep a series (at 0) after their last job is gone
_seen: set[str] = set()


async def sample(db: Database, kinds: Iterable[str] = ()) -> None:
    """Set the queue gauges from the database (two grouped queries, no transaction)."""
    now = utcnow()
    async with db.sessionmaker() as session:
        counts = await queue.counts_by_status(session)
        stats = await queue.stats_by_kind(session, now)
    for status in JobStatus:
        jobs_by_state.labels(status.value).set(counts.get(status.value, 0))
    _seen.update(kinds)
    _seen.update(stats)
    for kind in _seen:
        found = stats.get(kind)
        ready = found.ready if found else 0
        oldest = found.oldest_ready if found else None
        jobs_ready.labels(kind).set(ready)
        jobs_lag.labels(kind).set(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        jobs_dead.labels(kind).set(found.dead if found else 0)


async def sample_forever(db: Database, kinds: Iterable[str], every_seconds: float) -> None:
    """:func:`sample` every ``every_seconds`` until cancelled (a worker's metrics)."""
    kinds = tuple(kinds)
    while True:
        try:
            await sample(db, kinds)
        except Exception:
            log.warning("could not sample the job queue", exc_info=True)
        await asyncio.sleep(every_seconds)


class WorkerMetrics:
    """The worker's ``/metrics`` (prometheus_client's HTTP server, in its own thread) and
    the task sampling the queue gauges for it."""

    def __init__(self, server: Any, sampler: asyncio.Task[None]) -> None:
        self.server = server
        self.sampler = sampler

    def stop(self) -> None:
        self.sampler.cancel()
        self.server.shutdown()
        self.server.server_close()


def serve_worker_metrics(services: Any) -> WorkerMetrics | None:
    """Serve a worker's metrics when ``FRONTLINE_WORKER_METRICS_PORT`` is set (``services``:
    the worker process's :class:`~frontline.deps.Services`)."""
    from prometheus_client import start_http_server

    from frontline.kit.metrics import registry

    s = services.settings
    if not s.worker_metrics_port:
        return None
    server, _thread = start_http_server(
        s.worker_metrics_port, addr=s.worker_metrics_host, registry=registry
    )
    sampler = asyncio.create_task(
        sample_forever(services.db, services.jobs.names(), s.worker_metrics_sample_seconds)
    )
    print(
        f"Worker metrics: http://{s.worker_metrics_host}:{s.worker_metrics_port}/metrics",
        flush=True,
    )
    return WorkerMetrics(server, sampler)
