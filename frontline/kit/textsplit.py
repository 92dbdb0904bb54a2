"""Long outbound texts cut into a channel's message-size parts (Telegram, WhatsApp)."""

from __future__ import annotations

from collections.abc import Callable


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """``text`` in parts of at most ``limit`` (as ``measure`` counts: characters by
    default, UTF-16 code units for Telegram), cut at a line break or a space in the last
    fifth of a part when there is one; never an empty list."""
    parts: list[str] = []
    rest = text
    while measure(rest) > limit:
        cut = min(limit, len(rest))
        while measure(rest[:cut]) > limit:
            cut -= 1
        window = rest[:cut]
        soft = max(window.rfind("\n"), window.rfind(" "))
        if soft >= cut * 4 // 5:
            cut = soft + 1
        parts.append(rest[:cut].rstrip() or rest[:cut])
        rest = rest[cut:]
    if rest.strip() or not parts:
        parts.append(rest)
    return parts
