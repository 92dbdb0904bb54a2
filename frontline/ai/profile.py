"""The identified customer's profile as business data for the AI turn.

Only a contact the host application vouched for (a verified user id) gets one: its name
and typed custom attributes, scoped to that contact (read with the conversation itself).
The block is data inside the prompt's untrusted-data delimiters like any business data:
attribute values come from the host page or the customer and are never instructions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontline.ai.prompts import ContextBlock

TITLE = "Customer profile (signed-in user of the business's site)"
MAX_LINES = 50


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split())


def profile_block(
    user_id: str | None, name: str | None, attributes: Mapping[str, Any] | None
) -> ContextBlock | None:
    """The block for an identified contact, ``None`` for an anonymous one."""
    if not user_id:
        return None
    lines = [f"user id: {_value(user_id)}"]
    if name:
        lines.append(f"name: {_value(name)}")
    for key, value in sorted((attributes or {}).items())[:MAX_LINES]:
        lines.append(f"{key}: {_value(value)}")
    return ContextBlock(title=TITLE, content="\n".join(lines), source="contact")
