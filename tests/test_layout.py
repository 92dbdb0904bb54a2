"""The code stays laid out by concern: no source file over 600 lines (a file that grows past
it is split by concern, see DESIGN.md), and the repository's own Python and JavaScript are
all counted - application, tests, benchmarks and migrations."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = ("frontline", "tests", "benchmarks", "migrations")
SUFFIXES = {".py", ".js"}
MAX_LINES = 600


def source_files() -> list[Path]:
    return sorted(
        path
        for tree in TREES
        for path in (ROOT / tree).rglob("*")
        if path.suffix in SUFFIXES and path.is_file() and "node_modules" not in path.parts
    )


def test_no_source_file_is_over_600_lines() -> None:
    files = source_files()
    assert len(files) > 300  # the walk found the tree, not an empty folder
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in files
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these by concern (over {MAX_LINES} lines): {too_long}"
