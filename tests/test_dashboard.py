"""The example Grafana dashboard (``deploy/grafana/frontline.json``) cannot rot: a real
``frontline serve`` (no in-process worker) and a real ``frontline worker`` serving its
metrics (``FRONTLINE_WORKER_METRICS_PORT``) share one database; after real traffic (customer
messages answered and handed off by the AI, replies delivered to the channel's callback,
wrong passwords until the sign-in throttle refuses) both ``/metrics`` are scraped, and every
metric name a dashboard query uses must be among the scraped series - and every Frontline
metric must be on the dashboard. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from frontline.deps import Services
from frontline.kit.metrics import registry
from tests.conftest import TEST_SECRET, Factory
from tests.kit.keepalive import Answer, Request, keepalive_server
from tests.kit.liveserver import free_port, side_services, stop_all

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "frontline.json"
METRIC = re.compile(r"\bfrontline_[a-z_]+\b")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def dashboard_queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [
        target["expr"]
        for panel in document["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    assert queries, "the dashboard has no queries"
    return queries


def scrape(url: str) -> Samples:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, r.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(
        value
        for (found, pairs), value in samples.items()
        if found == name and set(labels.items()) <= set(pairs)
    )


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "frontline", *args], env=env, stdout=out, stderr=out
        )


def _wait_for(url: str, procs: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + 240  # a loaded 2-core machine starts processes slowly
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                tails = "\n".join(p.read_text()[-2000:] for p in sorted(logs.glob("*.log")))
                raise AssertionError(f"a process exited:\n{tails}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(API base URL, worker metrics URL)`` of a serve and a worker process."""
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        "FRONTLINE_DATABASE_URL": database_url,
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_LEVEL": "WARNING",
        "FRONTLINE_LOG_JSON": "false",
        "FRONTLINE_WORKER_POLL_SECONDS": "0.2",
        "FRONTLINE_WORKER_METRICS_SAMPLE_SECONDS": "0.5",
        "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "2",
        "FRONTLINE_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
    }
    env.pop("FRONTLINE_REDIS_URL", None)
    api_port, metrics_port = free_port(), free_port()
    serve = ["serve", "--host", "127.0.0.1", "--port", str(api_port)]
    procs = [
        _spawn([*serve, "--no-demo", "--no-migrate", "--no-worker"], env, tmp_path / "api.log"),
        _spawn(
            ["worker"],
            {
                **env,
                "FRONTLINE_WORKER_METRICS_PORT": str(metrics_port),
                "FRONTLINE_WORKER_METRICS_HOST": "127.0.0.1",
            },
            tmp_path / "worker.log",
        ),
    ]
    api, worker = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        _wait_for(f"{api}/health", procs, tmp_path)
        _wait_for(worker, procs, tmp_path)
        yield api, worker
    finally:
        stop_all(procs)


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[Services]:
    async with side_services(database_url) as services:
        yield services


async def test_every_dashboard_metric_is_served_after_real_traffic(
    processes: tuple[str, str], writer: Services
) -> None:
    api, worker_metrics = processes
    delivered: list[Request] = []

    def answer(request: Request) -> Answer:
        delivered.append(request)
        return Answer(200, {"ok": True})

    async with (
        keepalive_server(answer) as receiver,
        httpx.AsyncClient(base_url=api, timeout=30) as client,
    ):
        tenant = await Factory(writer, client).tenant(ai=True, callback_url=f"{receiver.base}/cb")
        sent = (
            ("c-0", "Сколько стоит тур на Байкал?", 202),
            ("c-1", "Позовите оператора, пожалуйста", 202),
            ("c-0", "https://example.com/tours/baikal", 202),  # link only: flagged
            ("c-0", "Алло?", 429),  # over 2 messages a minute from one customer
        )
        for n, (contact, text, expected) in enumerate(sent):
            r = await client.post(
                f"/api/v1/channels/{tenant.api_channel_id}/messages",
                headers=tenant.api_channel,
                json={"external_id": f"m-{n}", "contact": {"external_id": contact}, "text": text},
            )
            assert r.status_code == expected, r.text
        # wrong passwords until the throttle backs off and then refuses
        statuses = []
        for _ in range(8):
            r = await client.post(
                "/api/v1/auth/login", json={"email": tenant.owner_email, "password": "wrong"}
            )
            statuses.append(r.status_code)
        assert 401 in statuses and statuses[-1] == 429, statuses
        deadline = time.monotonic() + 120
        while len(delivered) < 2:  # the answer and the handoff message
            assert time.monotonic() < deadline, f"{len(delivered)} replies delivered"
            await asyncio.sleep(0.2)

    deadline = time.monotonic() + 30
    while True:  # the worker counts a turn after its commit; the queue sampler runs apart
        worker = await asyncio.to_thread(scrape, worker_metrics)
        if total(worker, "frontline_ai_turns_total") >= 2 and any(
            name == "frontline_jobs_lag_seconds" for name, _ in worker
        ):
            break
        assert time.monotonic() < deadline, sorted({name for name, _ in worker})
        await asyncio.sleep(0.5)
    served = await asyncio.to_thread(scrape, f"{api}/metrics")

    # what the traffic did, as each process counted it
    assert total(worker, "frontline_ai_turns_total", outcome="handed_off") >= 1
    assert total(worker, "frontline_llm_call_seconds_count", provider="offline") >= 2
    assert total(worker, "frontline_outbound_deliveries_total", channel_type="api") >= 2
    assert total(worker, "frontline_outbound_deliveries_total", outcome="sent") >= 2
    assert total(worker, "frontline_jobs_processed_total", kind="ai.reply", outcome="done") >= 2
    assert total(served, "frontline_inbound_messages_total", channel_type="api") == 3
    assert total(served, "frontline_inbound_throttled_total", channel_type="api") == 1
    assert total(served, "frontline_inbound_moderated_total", rule="link_only", mode="flag") == 1
    assert total(served, "frontline_signin_failures_total") >= 5
    assert total(served, "frontline_signin_throttled_total", action="imposed") >= 1
    assert total(served, "frontline_signin_throttled_total", action="refused") >= 1
    assert total(served, "frontline_jobs", status="done") >= 4
    assert total(served, "frontline_jobs_dead") == 0
    assert ("frontline_websocket_connections", (("surface", "widget"),)) in served
    # no tenant or conversation ids as labels: every label value is from a bounded set
    for _name, pairs in (*served, *worker):
        for label, value in pairs:
            assert str(tenant.id) not in value and label not in ("tenant", "tenant_id")

    names = {name for name, _ in (*served, *worker)}
    used = {name for query in dashboard_queries() for name in METRIC.findall(query)}
    assert used - names == set(), "dashboard queries use metrics no process serves"
    families = {metric.name for metric in registry.collect()}
    undrawn = {f for f in families if not any(u.startswith(f) for u in used)}
    assert undrawn == set(), "metrics the dashboard does not show"
