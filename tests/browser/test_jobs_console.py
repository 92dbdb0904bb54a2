"""The jobs page in Chromium: a dead job shows its last error and the Retry button puts it
back in the queue (the server's own worker then runs it again)."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Browser, expect

from frontline.jobs.queue import enqueue
from tests.browser.conftest import Server, console_context, sign_in
from tests.kit.liveserver import side_services

UNKNOWN_KIND = "test.no_such_kind"  # no handler: the worker fails it for good at once


async def _add_job(database_url: str, tenant_id: str) -> int:
    async with side_services(database_url) as services, services.db.transaction() as s:
        job = enqueue(s, UNKNOWN_KIND, {}, tenant_id=uuid.UUID(tenant_id), max_attempts=3)
        await s.flush()
        return job.id


def test_a_dead_job_is_retried_from_the_jobs_page(browser: Browser, server: Server) -> None:
    assert server.folder is not None
    url = f"sqlite+aiosqlite:///{server.folder}/frontline.db"
    # its own thread: the sync Playwright driver keeps an event loop on this one
    with ThreadPoolExecutor(1) as pool:
        job_id = pool.submit(asyncio.run, _add_job(url, server.info["tenant_id"])).result()
    ctx = console_context(browser, server)
    try:
        page = ctx.new_page()
        sign_in(page, server, "admin")
        page.goto(f"{server.base}/console/settings/jobs?lang=en")
        # the dead filter is the page's default; the server's worker killed the job
        row = page.locator('[data-testid="job-row"]', has_text=UNKNOWN_KIND)
        expect(row).to_contain_text("unknown job kind")
        expect(row).to_contain_text("1/3")
        admin = server.token("admin")

        def finished_at() -> str | None:
            jobs = server.api("GET", "/jobs", admin, params={"status": "dead"}).json()
            return next((j["finished_at"] for j in jobs if j["id"] == job_id), None)

        first = finished_at()
        assert first is not None
        row.get_by_test_id("job-retry").click()
        # re-queued with fresh attempts, run again by the server's worker, dead again later
        deadline = time.monotonic() + 30
        while finished_at() in (None, first):
            assert time.monotonic() < deadline, "the retried job did not run again"
            time.sleep(0.3)
        page.reload()
        expect(page.locator('[data-testid="job-row"]', has_text=UNKNOWN_KIND)).to_contain_text(
            "unknown job kind"
        )
    finally:
        ctx.close()
