"""Handoff reasons as stable codes, so the console can show them in its own language and
analytics can group them.

``Conversation.handoff_reason`` is free text written by whoever handed off (the widget's
"talk to a person" button, the offline engine, an LLM's own words). :func:`reason_code`
maps the texts Frontline itself writes to a code; anything else (an LLM's free-form
reason) is ``other`` and keeps its text as the detail.
"""

from __future__ import annotations

import enum


class ReasonCode(enum.StrEnum):
    HUMAN_REQUESTED = "human_requested"
    CUSTOMER_UPSET = "customer_upset"
    BILLING_DISPUTE = "billing_dispute"
    NO_CONFIDENT_ANSWER = "no_confident_answer"
    INVALID_OUTPUT = "invalid_output"
    ESCALATED = "escalated"
    MODERATION = "moderation"  # moderation held a message (the rules in brackets)
    OTHER = "other"


# the texts' beginnings, lower-cased (the offline engine appends the evidence in brackets)
PREFIXES: tuple[tuple[str, ReasonCode], ...] = (
    ("the customer asked for a person", ReasonCode.HUMAN_REQUESTED),
    ("customer asked for a person", ReasonCode.HUMAN_REQUESTED),
    ("customer seems upset", ReasonCode.CUSTOMER_UPSET),
    ("billing dispute", ReasonCode.BILLING_DISPUTE),
    ("no confident answer", ReasonCode.NO_CONFIDENT_ANSWER),
    ("invalid model output", ReasonCode.INVALID_OUTPUT),
    ("escalated by the ai", ReasonCode.ESCALATED),
    ("held by moderation", ReasonCode.MODERATION),
)


def reason_code(text: str | None) -> ReasonCode | None:
    """The code of a handoff reason text; ``None`` without a reason."""
    if not text:
        return None
    lowered = text.strip().lower()
    for prefix, code in PREFIXES:
        if lowered.startswith(prefix):
            return code
    return ReasonCode.OTHER


def reason_detail(text: str | None) -> str | None:
    """What the text says beyond its code: the bracketed evidence of a known reason, the
    whole text of an ``other`` one."""
    code = reason_code(text)
    if code is None or text is None:
        return None
    if code is ReasonCode.OTHER:
        return text
    start, end = text.find("("), text.rfind(")")
    return text[start + 1 : end] if 0 <= start < end else None
