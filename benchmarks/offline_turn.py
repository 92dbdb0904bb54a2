"""The offline AI turn at a knowledge base of 5,000 chunks: search, then the offline engine.

What one AI turn does with the built-in engine, beyond the reads and writes every turn makes
(those are ``benchmarks/ai_path.py``'s): the customer's message becomes a search query
(``retrieval.search_query``: a follow-up with its context, transliteration, synonyms), the
tenant's knowledge is searched (``knowledge.service.search`` through ``InProcessIndex`` on a
migrated SQLite database, in a reader session, as ``flows._prepare`` does), the top 5
chunks become the engine's passages and the engine answers (``OfflineEngine`` with
``DOCUMENT_THRESHOLDS``: sentence selection, the learned parts, the decision).

The tenant holds the demo knowledge base (its Markdown files and FAQ entries, chunked and
indexed as ingestion does) plus synthetic chunks (``benchmarks/knowledge.py``'s corpus) up
to ``--chunks``. The questions are the demo QA set (``frontline/demo_knowledge/qa.jsonl``,
follow-ups with their history), cycled for ``--turns`` turns, one at a time after one
untimed warm-up turn (which loads the index).

With the semantic re-rank (``frontline.knowledge.rerank``), the demo chunks get their real
vectors (the ``knowledge.rerank`` job's code) and the synthetic ones random vectors of the
same layout (``insert_documents``): each turn embeds its query and re-scores the lexical
best 50, as in the product.

The same script measures an older checkout: copy ``benchmarks/`` and
``frontline/demo_knowledge/`` into it and run the copy there (the demo files and questions
are read from the script's own tree; a build without ``retrieval.search_query`` searches
the message as it is). ``ref ms`` is the CPU time of a
fixed loop (see ``ai_path.py``): compare runs at alike references.

    python benchmarks/offline_turn.py [--chunks 5000] [--turns 400] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ai_path import reference_ms  # noqa: E402
from benchmarks.knowledge_corpus import (  # noqa: E402
    ChunkCorpus,
    build,
    insert_documents,
    make_tenant_corpus,
    make_tenants,
)

DEMO = ROOT / "frontline" / "demo_knowledge"


def demo_documents() -> list[tuple[str, list[Any], list[str]]]:
    """The demo knowledge base as stored documents: (title, chunks, index terms)."""
    from frontline.knowledge.chunking import chunk_document, faq_chunk
    from frontline.knowledge.parsing import parse_document
    from frontline.knowledge.service import index_terms

    documents: list[tuple[str, list[Any], list[str]]] = []
    for path in sorted(DEMO.glob("*.md")):
        parsed = parse_document(path.read_bytes(), filename=path.name)
        chunks = chunk_document(parsed)
        documents.append((parsed.title, chunks, index_terms(chunks, parsed.title)))
    faq = DEMO / "faq.json"
    for entry in json.loads(faq.read_text("utf-8")) if faq.is_file() else []:
        chunk = faq_chunk(entry["question"], entry["answer"])
        documents.append((entry["question"], [chunk], index_terms([chunk], entry["question"])))
    return documents


def questions() -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for line in (DEMO / "qa.jsonl").read_text("utf-8").splitlines()]
    return [(row["q"], list(row.get("history", []))) for row in rows if row]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from frontline.ai.base import ChatMessage
    from frontline.ai.offline import (
        DOCUMENT_THRESHOLDS,
        Decision,
        OfflineEngine,
        Passage,
        retrieval,
    )
    from frontline.knowledge import service as knowledge
    from frontline.knowledge.index import InProcessIndex

    search_query = getattr(retrieval, "search_query", None)
    follow_up = getattr(retrieval, "follow_up", None)
    services = build(url)
    try:
        scope = (await make_tenants(services, ["offline"]))["offline"]
        demo = demo_documents()
        await insert_documents(services, scope, demo)
        # the demo chunks get their real re-rank vectors, by the background job's code
        # (a no-op in a build without the re-rank)
        try:
            semantic: Any = importlib.import_module("frontline.knowledge.semantic")
        except ImportError:
            semantic = None
        if semantic is not None:
            await semantic.embed_pending(services.db, scope)
        stored = sum(len(chunks) for _, chunks, _ in demo)
        corpus = ChunkCorpus(args.seed)
        synthetic = make_tenant_corpus(corpus, max(0, args.chunks - stored))
        await insert_documents(
            services, scope, synthetic.documents, random_rerank_vectors=semantic is not None
        )
        stored += len(synthetic.texts)
        index = InProcessIndex()
        asked = questions()
        totals: list[float] = []
        searches: list[float] = []
        engines: list[float] = []
        answered = 0
        for turn in range(args.turns + 1):
            text, earlier = asked[turn % len(asked)]
            started = time.perf_counter()
            query = search_query(text, earlier) if search_query else text
            # the re-rank embeds the message (a follow-up with its context), as flows does
            extra = {"semantic_query": follow_up(text, earlier)} if follow_up else {}
            async with services.db.reader() as session:
                hits = await knowledge.search(
                    session, scope, services.secret_box, index, query[:1000], 5, **extra
                )
            searched = time.perf_counter()
            passages = [
                Passage(
                    id=str(h.chunk_id),
                    title=" > ".join(dict.fromkeys(p for p in (h.title, *h.heading_path) if p)),
                    text=h.text,
                )
                for h in hits
            ]
            engine = OfflineEngine(passages, thresholds=DOCUMENT_THRESHOLDS, default_language="ru")
            result = engine.triage(text, tuple(ChatMessage("user", m) for m in earlier))
            done = time.perf_counter()
            if turn == 0:
                continue  # the warm-up loads the tenant's index
            totals.append((done - started) * 1000)
            searches.append((searched - started) * 1000)
            engines.append((done - searched) * 1000)
            answered += result.decision is Decision.FULL_ANSWER
        return {
            "chunks": stored,
            "turns": len(totals),
            "answered": answered / len(totals),
            "p50": statistics.median(totals),
            "p95": pct(totals, 0.95),
            "p99": pct(totals, 0.99),
            "search_p50": statistics.median(searches),
            "search_p95": pct(searches, 0.95),
            "engine_p50": statistics.median(engines),
            "engine_p95": pct(engines, 0.95),
        }
    finally:
        await services.aclose()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--chunks", type=int, default=5000)
    ap.add_argument("--turns", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--label", default="this build")
    args = ap.parse_args()

    from frontline.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="frontline-offline-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/offline.db"
        upgrade(url)
        ref = reference_ms()
        row = asyncio.run(run(args, url))
    header = (
        f"{'build':<14} {'chunks':>6} {'turns':>5} {'ref ms':>6} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'p99 ms':>7} {'search p50/p95':>15} {'engine p50/p95':>15} {'answered':>8}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{args.label:<14} {row['chunks']:>6} {row['turns']:>5} {ref:>6.1f} {row['p50']:>7.1f}"
        f" {row['p95']:>7.1f} {row['p99']:>7.1f}"
        f" {row['search_p50']:>7.1f}/{row['search_p95']:<7.1f}"
        f" {row['engine_p50']:>7.1f}/{row['engine_p95']:<7.1f} {row['answered']:>8.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
