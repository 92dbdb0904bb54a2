"""Moderation before the AI: profanity, flood, repeated spam and link-only messages
(:mod:`.rules`), with the profanity word lists as data files (:mod:`.profanity`)."""

from frontline.ai.moderation.profanity import find_profanity
from frontline.ai.moderation.rules import (
    Mode,
    ModerationIn,
    ModerationSettings,
    Recent,
    Rule,
    Verdict,
    is_link_only,
    load_settings,
    moderate,
)

__all__ = [
    "Mode",
    "ModerationIn",
    "ModerationSettings",
    "Recent",
    "Rule",
    "Verdict",
    "find_profanity",
    "is_link_only",
    "load_settings",
    "moderate",
]
