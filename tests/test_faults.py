"""Faults survived: customer messages through real ``frontline serve`` + ``frontline worker``
processes on a private PostgreSQL cluster and a private redis-server while one part fails
(``benchmarks/faults.py`` runs the same scenarios with more messages and prints the table).

Each scenario asserts the invariants, not timings: no message lost or duplicated, every
customer message got exactly one AI reply or a handoff (delivered once), no job left queued,
running or dead, and no 500 while the part was away (the API answers 503 with Retry-After
while the database is unreachable).

The private services are started from the installed binaries (``initdb``/``pg_ctl``,
``redis-server``); when they are installed and cannot start, the test fails with the reason.
Only a machine without them skips (never CI).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchmarks.faults import run_scenario, scratch, table
from benchmarks.private_services import FaultSetupError, postgres_bin

MESSAGES = int(os.environ.get("FRONTLINE_TEST_FAULT_MESSAGES", "30"))


def _binaries_missing() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    try:
        found = postgres_bin()
    except FaultSetupError as exc:
        return str(exc)
    if not (found / "initdb").exists():
        return f"no initdb in {found}"
    return None


MISSING = _binaries_missing()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        MISSING is not None and not os.environ.get("CI"), reason=f"fault tests: {MISSING}"
    ),
]


@pytest.mark.parametrize("scenario", ["llm", "redis", "postgres", "worker"])
async def test_fault_loses_and_duplicates_nothing(scenario: str) -> None:
    async with scratch(f"frontline-faults-test-{scenario}-") as folder:
        try:
            outcome = await run_scenario(
                scenario, folder, messages=MESSAGES, rate=10, outage=3, settle_seconds=150
            )
        except FaultSetupError as exc:
            pytest.fail(f"the private PostgreSQL/Redis of the fault test did not start: {exc}")
        report = table([outcome])
        if outcome.problems():
            logs = "\n".join(
                f"{p.name}: {p.read_text(errors='replace')[-2000:]}"
                for p in sorted(Path(folder).glob("*.log"))
            )
            pytest.fail(f"{'; '.join(outcome.problems())}\n{report}\n{logs}")
    assert outcome.lost == 0 and outcome.duplicated == 0
    assert outcome.answered + outcome.handed_off == MESSAGES
    assert not outcome.stuck_jobs
    if scenario == "llm":
        # the provider really failed (30% of its calls) and the chain still answered all
        failed = sum(n for kind, n in outcome.llm_calls.items() if kind != "ok")
        assert failed > 0, outcome.llm_calls
    if scenario == "worker":
        assert outcome.killed_holding > 0  # killed mid-job: its jobs were recovered
    if scenario == "postgres":
        assert outcome.statuses.get(503, 0) > 0, outcome.statuses  # the outage was seen
