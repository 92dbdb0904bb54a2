"""Triage and reply: the result every provider produces, its JSON Schema, and
:func:`run_triage`, which asks a completion function for it and never raises for bad model
output.

Contract of :func:`run_triage`:

- the request carries the JSON Schema of :class:`TriageResult` (providers with native
  structured output enforce it, the others get it as an instruction);
- the answer is parsed leniently (plain JSON, JSON in a ```json fence, JSON with prose
  around it) and validated with Pydantic;
- invalid output gets exactly one repair attempt: the invalid answer and the validation
  errors are sent back with a request for corrected JSON;
- output that is still invalid (or a provider failure during the repair) becomes an
  ``escalate_to_human`` result with ``handoff_reason`` ``"invalid model output"``;
- citations are mapped from the prompt's labels (``K1``) to real passage ids; ids that were
  not given to the model are dropped and reported;
- a reply whose language differs from the customer's is noted, not re-asked.

Provider errors of the first call propagate: the fallback chain (or the job) decides what
happens then. This module imports no domain, model or settings code (import-linter).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from frontline.ai.base import ChatMessage, Completion, CompletionRequest, ProviderError

# The same literal as ``frontline.ai.offline.text.Language``; defined here too because the
# offline package imports this module (importing it back at module level would be a cycle).
Language = Literal["ru", "en"]

INVALID_OUTPUT_REASON = "invalid model output"
JSON_SCHEMA_NAME = "triage_result"


class Decision(enum.StrEnum):
    FULL_ANSWER = "full_answer"
    NEED_MORE_INFO = "need_more_info"
    ESCALATE_TO_HUMAN = "escalate_to_human"


_LANGUAGE_ALIASES: dict[str, Language] = {
    "ru": "ru",
    "rus": "ru",
    "russian": "ru",
    "русский": "ru",
    "en": "en",
    "eng": "en",
    "english": "en",
    "английский": "en",
}


class TriageResult(BaseModel):
    """What the AI decided for one inbound message (the same shape for every provider).

    ``draft_reply`` may be empty only when the decision is ``escalate_to_human`` (the
    customer is then told, localized, that a person will answer). Unknown keys from a model
    are ignored; ``language`` accepts ``"RU"``, ``"English"`` and similar spellings.
    """

    model_config = ConfigDict(extra="ignore")

    full_name: str | None = None
    issue_summary: str = ""
    decision: Decision
    draft_reply: str = ""
    language: Language = "en"
    citations: list[str] = Field(default_factory=list)
    handoff_reason: str | None = None

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        if isinstance(value, str):
            return _LANGUAGE_ALIASES.get(value.strip().lower(), value)
        return value

    @field_validator("full_name", "handoff_reason", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("citations", mode="before")
    @classmethod
    def _null_citations(cls, value: object) -> object:
        return [] if value is None else value

    @model_validator(mode="after")
    def _reply_required(self) -> TriageResult:
        if self.decision is not Decision.ESCALATE_TO_HUMAN and not self.draft_reply.strip():
            raise ValueError(f"draft_reply is required when decision is {self.decision.value}")
        return self


def triage_json_schema() -> dict[str, Any]:
    """The JSON Schema sent with the request: written out rather than generated, so it
    satisfies strict structured-output modes (every property required, nullable by type,
    no additional properties)."""
    return {
        "type": "object",
        "properties": {
            "full_name": {
                "type": ["string", "null"],
                "description": "The customer's name if they stated it, else null.",
            },
            "issue_summary": {
                "type": "string",
                "description": "One sentence: what the customer wants.",
            },
            "decision": {
                "type": "string",
                "enum": [d.value for d in Decision],
            },
            "draft_reply": {
                "type": "string",
                "description": "The message to send to the customer, in their language.",
            },
            "language": {"type": "string", "enum": ["ru", "en"]},
            "citations": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Ids of the knowledge passages used, e.g. K1.",
            },
            "handoff_reason": {
                "type": ["string", "null"],
                "description": "Why a person is needed (only for escalate_to_human).",
            },
        },
        "required": [
            "full_name",
            "issue_summary",
            "decision",
            "draft_reply",
            "language",
            "citations",
            "handoff_reason",
        ],
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class TriagePrompt:
    """A built prompt (see :func:`frontline.ai.prompts.build_prompt`): the messages, the
    citation labels given to the model (``{"K1": "real-passage-id"}``), the customer's
    detected language, their new message and their earlier messages (oldest first: the
    offline engine reads a follow-up with them), and the passages' texts (a reply's facts
    are checked against them: :mod:`frontline.ai.grounding`)."""

    messages: tuple[ChatMessage, ...]
    citation_ids: Mapping[str, str] = field(default_factory=dict)
    customer_language: Language = "en"
    customer_message: str = ""
    customer_history: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageParams:
    """Request options for the triage call."""

    model: str
    temperature: float = 0.2
    max_tokens: int = 800
    deadline_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class TriageOutcome:
    """The result plus what happened on the way, for acting on it and for the AI log.

    ``valid`` is False when the model's output never validated and ``result`` is the
    fallback escalation."""

    result: TriageResult
    valid: bool
    requests: tuple[CompletionRequest, ...]
    completions: tuple[Completion, ...]
    errors: tuple[str, ...] = ()
    dropped_citations: tuple[str, ...] = ()
    customer_language: Language = "en"
    language_mismatch: bool = False

    @property
    def attempts(self) -> int:
        return len(self.requests)

    @property
    def repaired(self) -> bool:
        return self.valid and self.attempts > 1


CompleteFn = Callable[[CompletionRequest], Awaitable[Completion]]


@runtime_checkable
class SupportsComplete(Protocol):
    """Anything with a ``complete`` method: a provider adapter or a fallback chain."""

    async def complete(self, request: CompletionRequest) -> Completion: ...


class InvalidOutput(ValueError):
    """The model's text is not a valid :class:`TriageResult`; the message lists why."""


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_REPAIR_ECHO_LIMIT = 6000


def extract_json(text: str) -> Any:
    """The JSON object in ``text``: the whole text, a fenced block, or the first object
    that decodes inside surrounding prose. Raises :class:`InvalidOutput`."""
    stripped = text.strip().lstrip("\ufeff")
    candidates = [stripped, *(m.group(1).strip() for m in _FENCE.finditer(stripped))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    for found in re.finditer(r"\{", stripped):
        try:
            value, _ = decoder.raw_decode(stripped, found.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    if not stripped:
        raise InvalidOutput("the answer is empty; a JSON object is required")
    raise InvalidOutput("the answer does not contain a JSON object")


def parse_result(text: str) -> TriageResult:
    """Parse and validate one model answer. Raises :class:`InvalidOutput` with readable
    errors (one per line) that can be sent back to the model."""
    data = extract_json(text)
    try:
        return TriageResult.model_validate(data)
    except ValidationError as error:
        lines = []
        for item in error.errors(include_url=False):
            where = ".".join(str(part) for part in item["loc"]) or "(object)"
            lines.append(f"{where}: {item['msg']}")
        raise InvalidOutput("\n".join(lines)) from error


_HANDOFF_REPLY: dict[Language, str] = {
    "en": "Thank you for your message. I am passing it to a member of our team; "
    "a person will answer you here shortly.",
    "ru": "Спасибо за сообщение. Я передаю его сотруднику, он ответит вам здесь в ближайшее время.",
}
_REPAIR: dict[Language, str] = {
    "en": (
        "Your previous answer could not be used:\n{errors}\n\n"
        "Reply again with only one corrected JSON object that follows the required schema "
        "(no prose, no code fences)."
    ),
    "ru": (
        "Ваш предыдущий ответ нельзя использовать:\n{errors}\n\n"
        "Ответьте ещё раз только одним исправленным JSON-объектом по требуемой схеме "
        "(без пояснений и без блоков кода)."
    ),
}


def handoff_reply(language: Language) -> str:
    """The localized "a person will answer" message."""
    return _HANDOFF_REPLY[language]


def _summary(text: str) -> str:
    return " ".join(text.split())[:200]


def _detect_language(text: str, default: Language) -> Language:
    # Imported here, not at module level: the offline package imports this module.
    from frontline.ai.offline.text import detect_language

    return detect_language(text, default)


def _resolve_citations(
    cited: Sequence[str], citation_ids: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Map ``K1``-style labels (or real ids) to real passage ids; drop unknown ones."""
    real_ids = set(citation_ids.values())
    labels = {label.lower(): real for label, real in citation_ids.items()}
    kept: list[str] = []
    dropped: list[str] = []
    for raw in cited:
        key = raw.strip().strip("[]").strip()
        real = labels.get(key.lower()) or (key if key in real_ids else None)
        if real is None:
            dropped.append(raw)
        elif real not in kept:
            kept.append(real)
    return kept, dropped


def _finish(
    result: TriageResult, prompt: TriagePrompt
) -> tuple[TriageResult, tuple[str, ...], bool]:
    citations, dropped = _resolve_citations(result.citations, prompt.citation_ids)
    updates: dict[str, Any] = {"citations": citations}
    if result.decision is Decision.ESCALATE_TO_HUMAN and not result.draft_reply.strip():
        updates["draft_reply"] = handoff_reply(prompt.customer_language)
    result = result.model_copy(update=updates)
    mismatch = result.language != prompt.customer_language or (
        _detect_language(result.draft_reply, result.language) != prompt.customer_language
    )
    return result, tuple(dropped), mismatch


def fallback_result(prompt: TriagePrompt, reason: str = INVALID_OUTPUT_REASON) -> TriageResult:
    """The escalation used when the model's output cannot be used."""
    return TriageResult(
        issue_summary=_summary(prompt.customer_message),
        decision=Decision.ESCALATE_TO_HUMAN,
        draft_reply=handoff_reply(prompt.customer_language),
        language=prompt.customer_language,
        handoff_reason=reason,
    )


async def run_triage(
    complete: CompleteFn | SupportsComplete,
    prompt: TriagePrompt,
    params: TriageParams,
) -> TriageOutcome:
    """Ask for a :class:`TriageResult` (see the module docstring for the contract)."""
    call: CompleteFn = complete.complete if isinstance(complete, SupportsComplete) else complete
    request = CompletionRequest(
        messages=prompt.messages,
        model=params.model,
        temperature=params.temperature,
        max_tokens=params.max_tokens,
        deadline_seconds=params.deadline_seconds,
        json_schema=triage_json_schema(),
        json_schema_name=JSON_SCHEMA_NAME,
    )
    requests = [request]
    completions: list[Completion] = []
    errors: list[str] = []

    first = await call(request)
    completions.append(first)
    try:
        result = parse_result(first.text)
    except InvalidOutput as error:
        errors.append(str(error))
        echoed = first.text[:_REPAIR_ECHO_LIMIT]
        repair = replace(
            request,
            messages=(
                *prompt.messages,
                ChatMessage("assistant", echoed),
                ChatMessage("user", _REPAIR[prompt.customer_language].format(errors=error)),
            ),
        )
        requests.append(repair)
        try:
            second = await call(repair)
        except ProviderError as provider_error:
            errors.append(f"repair call failed: {type(provider_error).__name__}: {provider_error}")
            return _invalid(prompt, requests, completions, errors)
        completions.append(second)
        try:
            result = parse_result(second.text)
        except InvalidOutput as second_error:
            errors.append(str(second_error))
            return _invalid(prompt, requests, completions, errors)

    result, dropped, mismatch = _finish(result, prompt)
    return TriageOutcome(
        result=result,
        valid=True,
        requests=tuple(requests),
        completions=tuple(completions),
        errors=tuple(errors),
        dropped_citations=dropped,
        customer_language=prompt.customer_language,
        language_mismatch=mismatch,
    )


def _invalid(
    prompt: TriagePrompt,
    requests: list[CompletionRequest],
    completions: list[Completion],
    errors: list[str],
) -> TriageOutcome:
    return TriageOutcome(
        result=fallback_result(prompt),
        valid=False,
        requests=tuple(requests),
        completions=tuple(completions),
        errors=tuple(errors),
        customer_language=prompt.customer_language,
    )


# --- streaming ------------------------------------------------------------------------------

_DRAFT_KEY = re.compile(r'"draft_reply"\s*:\s*"')
_DECISION_VALUE = re.compile(r'"decision"\s*:\s*"([a-z_]+)"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class DraftReplyStream:
    """Pulls the ``draft_reply`` text out of a triage answer while its JSON is still being
    generated, so a chat can show the reply as it is written.

    :meth:`feed` takes the next piece of the model's raw output and returns the reply text
    that became known with it (decoded: escapes resolved; an escape cut in half waits for
    the next piece). ``decision`` is set once the model has written it; the schema puts it
    before ``draft_reply``, so a reader knows whether the text is meant for the customer
    before the first character arrives. Output that is not the JSON object (prose, a fence
    the model added) yields nothing until the key appears."""

    def __init__(self) -> None:
        self._raw = ""
        self._start: int | None = None  # index in _raw of the reply's first character
        self._pos = 0  # next undecoded index
        self.decision: str | None = None
        self.done = False
        self.text = ""

    def feed(self, piece: str) -> str:
        self._raw += piece
        if self.decision is None:
            found = _DECISION_VALUE.search(self._raw)
            if found is not None:
                self.decision = found.group(1)
        if self._start is None:
            key = _DRAFT_KEY.search(self._raw)
            if key is None:
                return ""
            self._start = self._pos = key.end()
        if self.done:
            return ""
        out: list[str] = []
        raw, i = self._raw, self._pos
        while i < len(raw):
            ch = raw[i]
            if ch == '"':
                self.done = True
                i += 1
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(raw):
                break  # the escape continues in the next piece
            code = raw[i + 1]
            if code == "u":
                if i + 6 > len(raw):
                    break
                try:
                    point = int(raw[i + 2 : i + 6], 16)
                except ValueError:
                    point = 0xFFFD  # not a valid escape: the final validation judges the answer
                if 0xD800 <= point < 0xDC00:  # a surrogate pair (JSON's escape of an emoji)
                    if i + 12 > len(raw):
                        break
                    try:
                        low = int(raw[i + 8 : i + 12], 16)
                    except ValueError:
                        low = 0
                    if raw[i + 6 : i + 8] == "\\u" and 0xDC00 <= low < 0xE000:
                        point = 0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    else:
                        point = 0xFFFD
                out.append(chr(point))
                i += 6
                continue
            out.append(_ESCAPES.get(code, code))
            i += 2
        self._pos = i
        delta = "".join(out)
        self.text += delta
        return delta
