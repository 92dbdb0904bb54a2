"""The knowledge base through the product's code: ingestion throughput, search latency at
1k/10k/100k chunks in one tenant (with other tenants present) and memory per 100k chunks.

Everything runs the product's own path against a migrated database (``frontline.migrate``)
with tenants made by ``tenants.service.create_tenant``:

- Ingestion: a generated multi-page PDF (fpdf2: chapters, numbered sections, paragraphs,
  bullet lists, a running header and footer; an English one and, when the DejaVu font is
  installed, a Russian one) is stored with ``knowledge.service.upload(queue_job=False)``
  and ingested with ``knowledge.service.ingest`` - parse, chunk, analyse and store in one
  job, as the worker runs it. Median of ``--runs`` fresh uploads; ``prepare s`` is the CPU
  part alone (``service.prepare``: parse + chunk + analyse, no database), median too.
- Search: the target tenant is filled with synthetic chunks (~900 characters of Russian or
  English pseudo-words, see ``benchmarks/knowledge_index.py``; 25 per document, with
  titles and heading paths) inserted in bulk with the ``terms`` that ingestion stores
  (``service.index_terms``), the tenant's ``kb_state.version`` bumped in the same
  transaction, like ingestion does. Two other tenants hold ``--other`` chunks each. At each
  size a fresh ``InProcessIndex`` answers ``--queries`` queries (3-8 words of a random chunk
  of the tenant) one at a time, each in its own ``db.transaction()`` as the search endpoint
  does: version check, lexical search, passages read back with the tenant filter. ``first
  load s`` is the first call (it loads the tenant's whole index); ``search`` columns time
  ``InProcessIndex.search``, ``request`` columns add opening and committing the transaction;
  ``top5`` is the share of queries whose source chunk is among the 5 hits. Then a document
  of 25 chunks is added and deleted again (``service.delete_document``): ``+doc``/``-doc``
  time the first search after each, which catches the index up.
  The target tenant's chunks grow from one size to the next, and the sizes run in ascending order.
  On PostgreSQL autovacuum is off for the knowledge tables of the benchmark's database and
  they are vacuumed and analysed explicitly: ``stale p50`` is measured with the planner
  statistics of the previous size (as a tenant's big import looks until autovacuum
  analyses, which it never does while the change is under 10% of a big shared table), the
  rest after VACUUM ANALYZE.
- Memory: over the first load of each size, the growth of this process's RSS
  (``/proc/self/status`` VmRSS, after ``gc`` and ``malloc_trim``), its peak (VmHWM, reset
  before the load) and ``LexicalIndex.memory_bytes``. The first database measured in the
  process also pays process-wide memos of the analyser (bounded) and allocator leftovers,
  which show at the small sizes.

    python benchmarks/knowledge.py [--sizes 1000,10000,100000] [--database sqlite|postgres|both]
                                   [--queries 500] [--other 20000] [--pages 100] [--runs 3]
                                   [--pg-url postgresql+asyncpg://...] [--pg-budget 0]

A full default run takes about 5-6 minutes on 2 cores (its ~55 s first loads at 100k
included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import prepare_postgres  # noqa: E402
from benchmarks.knowledge_corpus import (  # noqa: E402
    PER_DOCUMENT,
    ChunkCorpus,
    Tenant,
    build,
    insert_documents,
    make_tenant_corpus,
    make_tenants,
)
from benchmarks.knowledge_pdf import DEJAVU, make_pdf  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/kb_bench"
K = 5
P99_TARGET_MS = 30.0
STALE_QUERIES = 50
KB_TABLES = ("kb_chunks", "kb_documents", "kb_state")
PAGES_TARGET = 20.0


# --- memory ------------------------------------------------------------------------------


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return 0


def rss_bytes() -> int:
    return _status("VmRSS")


def reset_peak() -> bool:
    """Reset the process's peak RSS (``VmHWM``) to its current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_bytes() -> int:
    return _status("VmHWM")


def settle() -> None:
    """Collect garbage and give freed heap back to the OS, so RSS shows what is kept."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# --- ingestion ---------------------------------------------------------------------------


@dataclass
class IngestRow:
    database: str
    document: str
    pages: int
    chunks: int
    prepare_s: float
    seconds: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)


async def bench_ingest(
    services: Any,
    scope: Any,
    database: str,
    pdfs: dict[str, bytes],
    prepared: dict[str, float],
    runs: int,
) -> list[IngestRow]:
    from frontline.knowledge import service as knowledge
    from frontline.models import DocumentStatus

    rows: list[IngestRow] = []
    for name, data in pdfs.items():
        row = IngestRow(database, name, 0, 0, prepared[name])
        for _ in range(runs):
            async with services.db.transaction() as s:
                doc = await knowledge.upload(s, scope, data, filename=name, queue_job=False)
                doc_id, revision = doc.id, doc.revision
            started = time.perf_counter()
            status = await knowledge.ingest(services.db, scope, doc_id, revision)
            row.seconds.append(time.perf_counter() - started)
            async with services.db.transaction() as s:
                doc = await knowledge.get_document(s, scope, doc_id)
                if status != DocumentStatus.READY.value:
                    raise RuntimeError(f"{name}: ingestion ended {status}: {doc.failure_reason}")
                row.pages, row.chunks = doc.pages_total, doc.chunks_done
        rows.append(row)
        print(f"... {database} ingest {name}: {row.median_s:.2f} s", file=sys.stderr, flush=True)
    return rows


def time_prepare(data: bytes, name: str, runs: int) -> float:
    from frontline.knowledge import service as knowledge
    from frontline.knowledge.parsing import ParseLimits

    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        knowledge.prepare(data, filename=name, title="", faq=None, limits=ParseLimits())
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


# --- search ------------------------------------------------------------------------------


@dataclass
class SearchRow:
    database: str
    chunks: int
    others: int
    first_load_s: float
    stale_ms: list[float]  # PostgreSQL: with the statistics of before the insert
    search_ms: list[float]
    request_ms: list[float]
    top5: float
    index_mb: float
    rss_mb: float
    peak_mb: float | None
    add_ms: float  # the first search after a document of PER_DOCUMENT chunks was added
    delete_ms: float  # ... after it was deleted again (service.delete_document)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def timed_queries(
    services: Any, index: Any, scope: Any, queries: Sequence[tuple[str, str]]
) -> tuple[list[float], list[float], int]:
    """Search time and request time (with the transaction) in ms of each query, and how
    many found their source chunk."""
    search_ms: list[float] = []
    request_ms: list[float] = []
    found = 0
    for query, source in queries:
        started = time.perf_counter()
        async with services.db.transaction() as s:
            inner = time.perf_counter()
            hits = await index.search(s, scope, query, K)
            done = time.perf_counter()
        request_ms.append((time.perf_counter() - started) * 1000)
        search_ms.append((done - inner) * 1000)
        found += any(h.text == source for h in hits)
    return search_ms, request_ms, found


async def bench_search(
    services: Any,
    scope: Any,
    database: str,
    size: int,
    others: int,
    corpus: ChunkCorpus,
    target: Tenant,
    n_queries: int,
    extra: tuple[str, list[Any], list[str]],
) -> SearchRow:
    """The measurements at one size (see the module doc); ``extra`` is a document added
    and deleted at the end to time the index catching up."""

    from frontline.knowledge import service as knowledge
    from frontline.knowledge.index import InProcessIndex

    picks = corpus.rng.integers(0, size, n_queries + STALE_QUERIES + 21).tolist()
    queries = [
        (corpus.query(target.texts[i].replace(".", "").lower(), target.langs[i]), target.texts[i])
        for i in picks
    ]
    index = InProcessIndex()
    settle()
    before = rss_bytes()
    peak = reset_peak()
    started = time.perf_counter()
    async with services.db.transaction() as s:
        await index.search(s, scope, queries[0][0], K)
    first = time.perf_counter() - started
    peak_mb = (peak_bytes() - before) / 1e6 if peak else None
    settle()
    grown = rss_bytes() - before
    index_bytes = index._tenants[scope.tenant_id].lexical.memory_bytes()
    queries = queries[1:]
    stale: list[float] = []
    if database == "postgres":
        # the planner still has the statistics of before the insert (as until autovacuum
        # analyses the tables: a minute at best, never while the change is under 10% of
        # a big table); measure that, then vacuum and analyse
        stale, _, _ = await timed_queries(services, index, scope, queries[:STALE_QUERIES])
        await analyze_tables(services)
    queries = queries[STALE_QUERIES:]
    await timed_queries(services, index, scope, queries[:20])  # warm-up
    search_ms, request_ms, found = await timed_queries(services, index, scope, queries[20:])
    (extra_id,) = await insert_documents(services, scope, [extra])
    add_ms = (await timed_queries(services, index, scope, queries[:1]))[0][0]
    async with services.db.transaction() as s:
        await knowledge.delete_document(s, scope, extra_id)
    delete_ms = (await timed_queries(services, index, scope, queries[1:2]))[0][0]
    row = SearchRow(
        database,
        size,
        others,
        first,
        stale,
        search_ms,
        request_ms,
        found / len(search_ms),
        index_bytes / 1e6,
        grown / 1e6,
        peak_mb,
        add_ms,
        delete_ms,
    )
    print(
        f"... {database} search {size}: load {first:.1f} s, p99 {pct(search_ms, 99):.1f} ms",
        file=sys.stderr,
        flush=True,
    )
    return row


async def analyze_tables(services: Any) -> None:
    """What autovacuum would do: statistics for the planner, the visibility map for
    index-only scans."""
    from sqlalchemy import text

    async with services.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in KB_TABLES:
            await conn.execute(text(f"VACUUM ANALYZE {table}"))


async def no_autovacuum(services: Any) -> None:
    """Statistics only change when ``analyze_tables`` runs (this benchmark's database)."""
    from sqlalchemy import text

    async with services.db.transaction() as s:
        for table in KB_TABLES:
            await s.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))


# --- driver ------------------------------------------------------------------------------


async def run_database(
    database: str,
    url: str,
    args: argparse.Namespace,
    pdfs: dict[str, bytes],
    prepared: dict[str, float],
    corpus: ChunkCorpus,
    target: Tenant,
    others: list[Tenant],
    sizes: list[int],
    deadline: float | None,
) -> tuple[list[IngestRow], list[SearchRow], list[int]]:
    services = build(url)
    skipped: list[int] = []
    try:
        names = ["ingest", "target", *(f"other{i}" for i in range(len(others)))]
        scopes = await make_tenants(services, names)
        if database == "postgres":
            await no_autovacuum(services)
        ingest_rows = await bench_ingest(
            services, scopes["ingest"], database, pdfs, prepared, args.runs
        )
        started = time.perf_counter()
        for i, other in enumerate(others):
            await insert_documents(services, scopes[f"other{i}"], other.documents)
        other_chunks = sum(len(t.texts) for t in others)
        if database == "postgres":
            await analyze_tables(services)
        print(
            f"... {database}: {other_chunks} chunks of other tenants stored in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        search_rows: list[SearchRow] = []
        stored = 0  # documents of the target tenant stored so far
        for size in sizes:
            if deadline is not None and time.perf_counter() > deadline and search_rows:
                skipped.append(size)
                continue
            want = (size + PER_DOCUMENT - 1) // PER_DOCUMENT
            started = time.perf_counter()
            await insert_documents(services, scopes["target"], target.documents[stored:want])
            stored = want
            print(
                f"... {database}: target tenant at {size} chunks "
                f"({time.perf_counter() - started:.1f} s to store)",
                file=sys.stderr,
                flush=True,
            )
            search_rows.append(
                await bench_search(
                    services,
                    scopes["target"],
                    database,
                    size,
                    other_chunks,
                    corpus,
                    target,
                    args.queries,
                    target.documents[want],
                )
            )
        return ingest_rows, search_rows, skipped
    finally:
        await services.db.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--other", type=int, default=20_000, help="chunks of each other tenant")
    ap.add_argument("--pages", type=int, default=100, help="pages of each generated PDF")
    ap.add_argument("--runs", type=int, default=3, help="ingestion runs per PDF (median)")
    ap.add_argument(
        "--pg-budget",
        type=float,
        default=0.0,
        help="seconds after which PostgreSQL skips the remaining search sizes (0: none)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    overall = time.perf_counter()

    from frontline.migrate import upgrade

    pdfs = {"handbook-en.pdf": make_pdf(args.pages, "en")}
    if DEJAVU.is_file():
        pdfs["handbook-ru.pdf"] = make_pdf(args.pages, "ru")
    else:
        print("(no DejaVuSans.ttf: the Russian PDF is skipped)", file=sys.stderr)
    prepared = {name: time_prepare(data, name, args.runs) for name, data in pdfs.items()}

    started = time.perf_counter()
    corpus = ChunkCorpus(args.seed)
    target = make_tenant_corpus(corpus, max(sizes) + PER_DOCUMENT)
    others = [make_tenant_corpus(corpus, args.other) for _ in range(2)] if args.other else []
    print(
        f"... corpus: {max(sizes) + 2 * args.other} chunks generated and analysed in "
        f"{time.perf_counter() - started:.1f} s, "
        f"{statistics.mean(len(t) for t in target.texts[:2000]):.0f} characters per chunk",
        file=sys.stderr,
        flush=True,
    )

    ingest_rows: list[IngestRow] = []
    search_rows: list[SearchRow] = []
    notes: list[str] = []
    tmp = tempfile.mkdtemp(prefix="frontline-kb-bench-")
    try:
        for database in databases:
            if database == "sqlite":
                url = f"sqlite+aiosqlite:///{tmp}/kb.db"
            else:
                url = args.pg_url
                asyncio.run(prepare_postgres(url))
            upgrade(url)
            deadline = (
                time.perf_counter() + args.pg_budget
                if database == "postgres" and args.pg_budget > 0
                else None
            )
            got_ingest, got_search, skipped = asyncio.run(
                run_database(
                    database, url, args, pdfs, prepared, corpus, target, others, sizes, deadline
                )
            )
            ingest_rows += got_ingest
            search_rows += got_search
            if skipped:
                notes.append(
                    f"{database}: sizes {', '.join(map(str, skipped))} skipped "
                    f"(--pg-budget {args.pg_budget:.0f} s used up)"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file is ~800 MB at 100k

    print()
    print(
        f"Ingestion: upload + service.ingest of a generated {args.pages}-page PDF, median of "
        f"{args.runs} runs (target: >= {PAGES_TARGET:.0f} pages/s)"
    )
    header = (
        f"{'db':<9}{'document':<17}{'pages':>6}{'chunks':>7}{'prepare s':>10}{'ingest s':>9}"
        f"{'pages/s':>9}{'chunks/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in ingest_rows:
        print(
            f"{r.database:<9}{r.document:<17}{r.pages:>6}{r.chunks:>7}{r.prepare_s:>10.2f}"
            f"{r.median_s:>9.2f}{r.pages / r.median_s:>9.1f}{r.chunks / r.median_s:>9.1f}"
        )

    print()
    print(
        f"Search: InProcessIndex.search(k={K}), each in its own db.transaction(), "
        f"{args.queries} queries; the tenant + 2 others (target: p99 < {P99_TARGET_MS:.0f} ms "
        "at 100k)"
    )
    header = (
        f"{'db':<9}{'chunks':>8}{'others':>8}{'first load s':>13}{'stale p50':>10}"
        f"{'search p50':>11}{'p99 ms':>8}{'request p50':>12}{'p99 ms':>8}{'top5':>6}"
        f"{'+doc ms':>8}{'-doc ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in search_rows:
        stale = f"{statistics.median(r.stale_ms):>10.2f}" if r.stale_ms else f"{'-':>10}"
        print(
            f"{r.database:<9}{r.chunks:>8}{r.others:>8}{r.first_load_s:>13.2f}{stale}"
            f"{statistics.median(r.search_ms):>11.2f}{pct(r.search_ms, 99):>8.2f}"
            f"{statistics.median(r.request_ms):>12.2f}{pct(r.request_ms, 99):>8.2f}"
            f"{r.top5:>6.2f}{r.add_ms:>8.1f}{r.delete_ms:>8.1f}"
        )
    print(
        f"  stale p50: PostgreSQL, {STALE_QUERIES} queries with the planner statistics of "
        "before the tenant grew (autovacuum off; then VACUUM ANALYZE for the rest);\n"
        f"  +doc / -doc: the first search after a {PER_DOCUMENT}-chunk document was added / "
        "deleted (the index catches up)"
    )

    print()
    print("Memory: the tenant's index, loaded by its first search")
    header = (
        f"{'db':<9}{'chunks':>8}{'index MB':>9}{'RSS growth MB':>14}{'load peak MB':>13}"
        f"{'index KB/chunk':>15}{'RSS KB/chunk':>13}"
    )
    print(header)
    print("-" * len(header))
    for r in search_rows:
        peak = f"{r.peak_mb:>13.1f}" if r.peak_mb is not None else f"{'-':>13}"
        print(
            f"{r.database:<9}{r.chunks:>8}{r.index_mb:>9.1f}{r.rss_mb:>14.1f}{peak}"
            f"{r.index_mb * 1000 / r.chunks:>15.2f}{r.rss_mb * 1000 / r.chunks:>13.2f}"
        )
    print(
        "  index MB: LexicalIndex.memory_bytes(); RSS growth: VmRSS after the load minus "
        "before (gc + malloc_trim both times);\n  load peak: VmHWM during the load minus RSS "
        "before it"
    )

    print()
    for database in databases:
        rows = [r for r in search_rows if r.database == database]
        if rows:
            top = rows[-1]
            verdict = "ok" if pct(top.search_ms, 99) < P99_TARGET_MS else "MISSED"
            print(
                f"{database}: search p99 at {top.chunks} chunks {pct(top.search_ms, 99):.1f} ms "
                f"(request {pct(top.request_ms, 99):.1f} ms), target < {P99_TARGET_MS:.0f} ms: "
                f"{verdict}; memory at {top.chunks} chunks: index {top.index_mb:.0f} MB, RSS "
                f"{top.rss_mb:.0f} MB"
                + (
                    f" (per 100k: {top.index_mb * 1e5 / top.chunks:.0f} / "
                    f"{top.rss_mb * 1e5 / top.chunks:.0f} MB)"
                    if top.chunks >= 100_000
                    else " (not linear at small sizes: the vocabulary dominates)"
                )
            )
        pages = [r.pages / r.median_s for r in ingest_rows if r.database == database]
        if pages:
            verdict = "ok" if min(pages) >= PAGES_TARGET else "MISSED"
            print(
                f"{database}: ingestion {min(pages):.1f}-{max(pages):.1f} pages/s, "
                f"target >= {PAGES_TARGET:.0f}: {verdict}"
            )
    print(f"\ntotal {time.perf_counter() - overall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
