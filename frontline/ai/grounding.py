"""A reply's facts checked against what it was given: every number and date in an answer
must appear in the knowledge passages, the business data or the customer's own words.

Models invent prices and dates ("the tour costs 50,000") more readily than anything else,
and those are what a customer acts on. :func:`grounded_triage` runs
:func:`~frontline.ai.triage.run_triage`; when a ``full_answer`` states a number or a date
found in none of the sources, the model is asked once more, told which figures were not in
the reference data; a second ungrounded answer becomes a handoff to a person
(``handoff_reason`` names the figures). Escalations and clarifying questions are not
checked: they state no facts to the customer.

Numbers are compared by their digits ("45 000", "45,000" and "45000" are one number;
"9:00" and "09:00" one time); numbers below 10 are not checked (a reply spells "one day" or
"1 day" either way, and such counts rarely mislead). A date is a day with a month name
("2 июня", "June 2"), checked as that pair.

This module imports no domain, model or settings code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from frontline.ai.base import ChatMessage
from frontline.ai.triage import (
    CompleteFn,
    Decision,
    SupportsComplete,
    TriageOutcome,
    TriageParams,
    TriagePrompt,
    fallback_result,
    run_triage,
)

UNGROUNDED_REASON = "the reply's figures are not in the knowledge base"

_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f,.]\d{3})*(?:[.,]\d+)?")
_TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})\b")
_MONTHS: tuple[tuple[str, str], ...] = (
    ("01", r"январ\w*|jan(?:uary)?"),
    ("02", r"феврал\w*|feb(?:ruary)?"),
    ("03", r"март\w*|mar(?:ch)?"),
    ("04", r"апрел\w*|apr(?:il)?"),
    ("05", r"ма[йяею]|may"),
    ("06", r"июн\w*|june?"),
    ("07", r"июл\w*|july?"),
    ("08", r"август\w*|aug(?:ust)?"),
    ("09", r"сентябр\w*|sep(?:t|tember)?"),
    ("10", r"октябр\w*|oct(?:ober)?"),
    ("11", r"ноябр\w*|nov(?:ember)?"),
    ("12", r"декабр\w*|dec(?:ember)?"),
)
_MONTH = "|".join(f"(?P<m{number}>{pattern})" for number, pattern in _MONTHS)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+(?:{_MONTH})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b(?:{_MONTH})\s+(\d{{1,2}})\b", re.IGNORECASE)
_FIX: dict[str, str] = {
    "en": (
        "Your answer states figures that are not in the reference data: {figures}. Answer "
        "again using only numbers and dates that appear in the reference data; if the "
        "information is not there, escalate to a person. Reply with the JSON object only."
    ),
    "ru": (
        "В вашем ответе есть цифры, которых нет в справочных данных: {figures}. Ответьте "
        "ещё раз, используя только числа и даты из справочных данных; если информации там "
        "нет, передайте вопрос сотруднику. Ответьте только JSON-объектом."
    ),
}


def _digits(token: str) -> str:
    """A number's digits, thousands separators dropped (a decimal part is kept)."""
    compact = re.sub(r"(?<=\d)[ \u00a0\u202f,.](?=\d{3}\b)", "", token)
    return compact.replace(",", ".")


def _month(match: re.Match[str]) -> str:
    return next(name[1:] for name, value in match.groupdict().items() if value)


def facts(text: str) -> set[str]:
    """The numbers (10 and above), clock times and dates stated in ``text``, normalised."""
    found: set[str] = set()
    for match in _DAY_MONTH.finditer(text):
        found.add(f"date:{int(match.group(1)):02d}.{_month(match)}")
    for match in _MONTH_DAY.finditer(text):
        found.add(f"date:{int(match.groups()[-1]):02d}.{_month(match)}")
    for match in _TIME.finditer(text):
        found.add(f"time:{int(match.group(1)):02d}:{match.group(2)}")
    rest = _MONTH_DAY.sub(" ", _DAY_MONTH.sub(" ", _TIME.sub(" ", text)))
    for match in _NUMBER.finditer(rest):
        value = _digits(match.group(0))
        try:
            if float(value) >= 10:
                found.add(value)
        except ValueError:
            continue
    return found


def ungrounded(reply: str, sources: Iterable[str]) -> list[str]:
    """The facts of ``reply`` (see :func:`facts`) that none of ``sources`` states, sorted."""
    known: set[str] = set()
    for source in sources:
        known |= facts(source)
    return sorted(facts(reply) - known)


async def grounded_triage(
    complete: CompleteFn | SupportsComplete,
    prompt: TriagePrompt,
    params: TriageParams,
) -> TriageOutcome:
    """:func:`run_triage`, with a full answer's figures checked against the prompt's
    sources (see the module doc); the outcome lists every request and completion made."""
    outcome = await run_triage(complete, prompt, params)
    sources = (*prompt.sources, prompt.customer_message, *prompt.customer_history)
    missing = _missing(outcome, sources)
    if not missing:
        return outcome
    note = _FIX[prompt.customer_language].format(figures=", ".join(missing))
    retry_prompt = replace(prompt, messages=(*prompt.messages, ChatMessage("user", note)))
    second = await run_triage(complete, retry_prompt, params)
    errors = (*outcome.errors, f"ungrounded figures: {', '.join(missing)}", *second.errors)
    merged = replace(
        second,
        requests=(*outcome.requests, *second.requests),
        completions=(*outcome.completions, *second.completions),
        errors=errors,
    )
    still = _missing(second, sources)
    if not still:
        return merged
    reason = f"{UNGROUNDED_REASON}: {', '.join(still)}"
    return replace(
        merged,
        result=fallback_result(prompt, reason),
        errors=(*errors, f"ungrounded figures: {', '.join(still)}"),
    )


def _missing(outcome: TriageOutcome, sources: Iterable[str]) -> list[str]:
    if not outcome.valid or outcome.result.decision is not Decision.FULL_ANSWER:
        return []
    return ungrounded(outcome.result.draft_reply, sources)
