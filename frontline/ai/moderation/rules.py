"""The moderation rules applied to an inbound customer message before the AI sees it.

Four rules, each with a stable reason code and a per-tenant mode:

- ``profanity`` - mat or strong insults in Russian or English, disguises included
  (:mod:`frontline.ai.moderation.profanity`);
- ``flood`` - ``flood_messages`` or more messages from one contact within
  ``flood_seconds`` (a burst no person types, well under the per-minute rate limit, which
  only protects capacity);
- ``spam`` - the same or nearly the same text sent ``spam_repeats`` times by one contact
  within ``spam_window_seconds``;
- ``link_only`` - a message that is nothing but links.

Modes: ``off`` (not checked), ``flag`` (the message is kept and the AI answers; operators
see the flag) and ``hold`` (kept, the AI does not answer it and the conversation goes to
the operators' queue). Pure functions over the message and the contact's recent messages;
the inbound path (``frontline.conversations.moderation``) reads those and acts.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from pydantic import BaseModel, ConfigDict, Field

from frontline.ai.moderation.profanity import find_profanity


class Rule(enum.StrEnum):
    PROFANITY = "profanity"
    FLOOD = "flood"
    SPAM = "spam"
    LINK_ONLY = "link_only"


class Mode(enum.StrEnum):
    OFF = "off"
    FLAG = "flag"
    HOLD = "hold"


_STRENGTH = {Mode.OFF: 0, Mode.FLAG: 1, Mode.HOLD: 2}


class ModerationSettings(BaseModel):
    """A tenant's moderation: a mode per rule and the flood and spam thresholds."""

    model_config = ConfigDict(extra="forbid")

    profanity: Mode = Mode.FLAG
    flood: Mode = Mode.HOLD
    spam: Mode = Mode.HOLD
    link_only: Mode = Mode.FLAG
    flood_messages: int = Field(default=8, ge=2, le=100)
    flood_seconds: int = Field(default=30, ge=1, le=3600)
    spam_repeats: int = Field(default=3, ge=2, le=20)
    spam_window_seconds: int = Field(default=600, ge=10, le=86_400)

    def mode(self, rule: Rule) -> Mode:
        value: Mode = getattr(self, rule.value)
        return value

    @property
    def history_seconds(self) -> int:
        """How far back the contact's messages matter (0: no rule needs them)."""
        seconds = 0
        if self.flood is not Mode.OFF:
            seconds = self.flood_seconds
        if self.spam is not Mode.OFF:
            seconds = max(seconds, self.spam_window_seconds)
        return seconds

    @property
    def history_limit(self) -> int:
        """At most this many of the contact's recent messages are needed."""
        return max(self.flood_messages, 50)


class ModerationIn(BaseModel):
    """A change to the moderation settings; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    profanity: Mode | None = None
    flood: Mode | None = None
    spam: Mode | None = None
    link_only: Mode | None = None
    flood_messages: int | None = Field(default=None, ge=2, le=100)
    flood_seconds: int | None = Field(default=None, ge=1, le=3600)
    spam_repeats: int | None = Field(default=None, ge=2, le=20)
    spam_window_seconds: int | None = Field(default=None, ge=10, le=86_400)

    def apply(self, current: ModerationSettings) -> ModerationSettings:
        changes = {k: v for k, v in self.model_dump(exclude_none=True).items()}
        return current.model_copy(update=changes)


def load_settings(stored: object) -> ModerationSettings:
    """The settings kept in ``ai_settings.moderation`` (``None``: the defaults); values a
    newer release no longer knows fall back to the defaults rather than fail an inbound
    message."""
    if not isinstance(stored, dict):
        return ModerationSettings()
    try:
        return ModerationSettings.model_validate(stored)
    except ValueError:
        return ModerationSettings()


@dataclass(frozen=True)
class Recent:
    """One of the contact's earlier inbound messages."""

    created_at: datetime
    text: str


@dataclass(frozen=True)
class Verdict:
    """What moderation decided about one message: the strongest mode of the rules that
    fired, and every rule that fired (reason codes, in rule order)."""

    mode: Mode
    reasons: tuple[Rule, ...]

    def as_meta(self) -> dict[str, object]:
        return {"mode": self.mode.value, "reasons": [r.value for r in self.reasons]}


_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w@.])(?:[a-zа-я0-9-]+\.)+(?:[a-z]{2,24}|рф)(?::\d+)?(?:/\S*)?(?![\w@])",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+")


def is_link_only(text: str) -> bool:
    """The text is one or more links and nothing else (punctuation aside)."""
    if not _URL.search(text):
        return False
    return not _NOT_WORD.sub("", _URL.sub(" ", text))


SPAM_MIN_CHARS = 6  # "ok", "да", "+" repeated are not spam
_SIMILAR = 0.9


def spam_key(text: str) -> str:
    """The text as repetitions are compared: lower case, words only."""
    return " ".join(_NOT_WORD.sub(" ", text.lower().replace("ё", "е")).split())[:500]


def near_same(a: str, b: str) -> bool:
    """Two spam keys are the same text give or take a few characters."""
    if a == b:
        return True
    shorter, longer = sorted((len(a), len(b)))
    if not shorter or shorter / longer < _SIMILAR:
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= _SIMILAR and matcher.ratio() >= _SIMILAR


def is_flood(recent: Sequence[Recent], now: datetime, settings: ModerationSettings) -> bool:
    since = now - timedelta(seconds=settings.flood_seconds)
    return sum(1 for r in recent if r.created_at >= since) + 1 >= settings.flood_messages


def is_spam(
    text: str, recent: Sequence[Recent], now: datetime, settings: ModerationSettings
) -> bool:
    key = spam_key(text)
    if len(key) < SPAM_MIN_CHARS:
        return False
    since = now - timedelta(seconds=settings.spam_window_seconds)
    needed = settings.spam_repeats - 1
    found = 0
    for r in recent:
        if r.created_at >= since and near_same(key, spam_key(r.text)):
            found += 1
            if found >= needed:
                return True
    return False


def moderate(
    text: str,
    recent: Sequence[Recent],
    now: datetime,
    settings: ModerationSettings,
) -> Verdict | None:
    """The verdict on a message from a contact whose earlier inbound messages (newest
    first, those within :attr:`ModerationSettings.history_seconds`) are ``recent``;
    ``None`` when no rule that is on fires."""
    fired: list[Rule] = []
    if settings.profanity is not Mode.OFF and text and find_profanity(text) is not None:
        fired.append(Rule.PROFANITY)
    if settings.flood is not Mode.OFF and is_flood(recent, now, settings):
        fired.append(Rule.FLOOD)
    if settings.spam is not Mode.OFF and text and is_spam(text, recent, now, settings):
        fired.append(Rule.SPAM)
    if settings.link_only is not Mode.OFF and text and is_link_only(text):
        fired.append(Rule.LINK_ONLY)
    if not fired:
        return None
    mode = max((settings.mode(r) for r in fired), key=_STRENGTH.__getitem__)
    return Verdict(mode, tuple(fired))
