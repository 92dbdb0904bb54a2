"""Running ``frontline tenant ...`` (export, import) as a real subprocess in tests."""

from __future__ import annotations

import subprocess
import sys


def frontline_tenant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m frontline tenant *args`` with ``env``; its output captured as text, its
    exit code left to the caller to check (two minutes at most)."""
    return subprocess.run(
        [sys.executable, "-m", "frontline", "tenant", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
