"""Rule-based signals in a customer message: a request for a person, and an upset customer.

The rules are regular expressions over the normalised text (see
``frontline.ai.offline.text.normalize``), in Russian and English. They are written from what
customers actually say (the NLU++ ``handoff`` utterances were the English development set)
and stay free of profanity lists: anger shows as complaint words, demands, repeated
exclamation marks and shouting in capitals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontline.ai.offline.text import normalize

_PERSON_EN = (
    r"(?:a |an |the |your |some |)(?:real |actual |live |human |other )?"
    r"(?:person|human|humans|people|agent|operator|manager|supervisor|representative|rep|"
    r"staff|employee|worker|bank worker|somebody|someone|anyone|reception|receptionist|"
    r"front desk|concierge|spa team|room service|restaurant|pool|team)"
)
_HUMAN_REQUEST_EN = [
    # "talk to a person", "speak with someone at the restaurant", "chat to an agent"
    rf"\b(?:talk|speak|chat)(?:ing)? (?:directly )?(?:to|with) {_PERSON_EN}\b",
    rf"\b(?:transfer|put|pass|connect|forward|switch|redirect)(?:ring)? (?:me|us|this|that|"
    rf"it)? ?(?:through |over |back )?(?:to|with) {_PERSON_EN}\b",
    r"\bput me through\b",
    r"\bget (?:me )?(?:to )?(?:a |an |your |the )?(?:real |actual |live )?(?:person|human|"
    r"agent|operator|manager|supervisor|someone else|somebody else)\b",
    r"\bget someone(?: else)? on the (?:line|phone)\b",
    r"\b(?:give|find) me (?:a |an |your |the )?(?:real |actual |live )?(?:person|human|"
    r"agent|operator|manager|supervisor)\b",
    r"\b(?:a|an|some) (?:real|actual|live) (?:person|human|agent|operator)\b",
    r"\b(?:human|live) (?:agent|operator|support|being)\b",
    r"\bwith a machine\b|\bto (?:a|the) (?:bot|machine)s?\b|\bstop talking to (?:a )?bots?\b",
    r"\b(?:manager|supervisor|operator|human|agent) (?:please|now|pls)\b",
    r"^(?:operator|human|agent|manager|supervisor|representative|spa team|reception)"
    r"(?: please)?[.!?]*$",
    r"\b(?:call|ring) me back\b",
    r"\bthis conversation is (?:not|going nowhere|pointless|useless)\b",
]
_HUMAN_REQUEST_RU = [
    r"\bжив(?:ой|ым|ого|ому|ые|ых) (?:человек|оператор|сотрудник|специалист)",
    r"\bоператор",
    r"\bменеджер",
    r"\bсотрудник",
    r"\bспециалист",
    r"\bадминистратор",
    r"\bруководител",
    r"\bначальств|\bначальник",
    r"\bчеловек(?:а|ом|у)?\b.*\b(?:позов|соедин|переключ|дайте|нужен|хочу|поговор)",
    r"\b(?:позов|соедин|переключ|дайте|нужен|хочу|поговор)\w*\b.*\bчеловек",
    r"\bс (?:роботом|ботом|машиной)\b|\bне (?:с )?(?:робот|бот)",
    r"\bперезвоните\b",
]
_UPSET_EN = [
    r"\b(?:terrible|horrible|awful|unacceptable|ridiculous|outrageous|disgusting|pathetic|"
    r"useless|worst|scam|furious|frustrat\w*|angry|annoyed|fed up|sick of|disgrace\w*|"
    r"incompetent|rip ?off|shameful|nightmare)\b",
    r"\b(?:refund|money back)\b.{0,20}\b(?:now|immediately|right now|asap|today)\b",
    r"\bi (?:demand|insist)\b",
    r"\b(?:complaint|complain|lawyer|sue you|court|consumer protection)\b",
    r"\bwast(?:e|ed|ing) (?:my|our) (?:time|money)\b",
    r"\bnot working at all\b|\bnever again\b",
]
_UPSET_RU = [
    r"\b(?:ужасн|кошмар|безобраз|возмутительн|возмущ|отвратительн|позор|обман|мошенн|"
    r"издевательств|хамств|беспредел|невыносим|недопустим|бесит|достали|надоел|безответствен)",
    r"\bжалоб|\bпожалуюсь|\bжаловаться|\bпретензи|\bроспотребнадзор|\bсуд\b|\bв суд\b|\bюрист",
    r"\bверните (?:мне )?деньги\b|\bвозврат\w* (?:денег )?(?:немедленно|сейчас же|срочно)",
    r"\bсколько можно\b|\bэто (?:уже )?слишком\b|\bтребую\b",
]

# A dispute about money already paid: a person must look at the payment, whatever the
# knowledge base says about refunds in general.
_DISPUTE = [
    r"\b(?:charged|billed|paid|debited) (?:me )?(?:twice|two times|double|again|extra|too much)\b",
    r"\bdouble (?:charge|charged|payment|billing)\b|\bovercharg\w*|\bchargeback\b",
    r"\bwrong (?:amount|charge|price) (?:was )?(?:charged|taken|billed)\b",
    r"\bunauthori[sz]ed (?:charge|payment|transaction)\b",
    r"\b(?:did not|never) (?:get|receive|got) (?:my |the )?(?:refund|money back)\b",
    r"\b(?:where is|still waiting for) (?:my |the )?refund\b|\bdispute (?:a |the |this )?"
    r"(?:charge|payment)\b",
    r"\bсписали (?:\w+ )?(?:дважды|два раза|лишн\w*|больше)\b|\bдвойн\w* (?:списани|оплат)",
    r"\b(?:дважды|два раза|лишнее) (?:\w+ )?(?:списали|сняли|взяли)\b",
    r"\b(?:не вернули|не возвращают|не пришли|не пришел|не пришёл) (?:мне )?(?:деньги|"
    r"возврат|предоплат\w*)|\b(?:деньги|возврат|предоплата) (?:так и )?не (?:вернули|пришл\w*|"
    r"пришел|вернулась)",
    r"\bгде (?:мой |мои |наш )?(?:возврат|деньги)\b|\bоспорить (?:платеж|списание|оплату)",
    r"\bнеправильн\w* сумм\w*|\bчарджбэк",
]

_HUMAN_EN = [re.compile(p) for p in _HUMAN_REQUEST_EN]
_HUMAN_RU = [re.compile(p) for p in _HUMAN_REQUEST_RU]
_UPSET = [re.compile(p) for p in _UPSET_EN + _UPSET_RU]
_DISPUTES = [re.compile(p) for p in _DISPUTE]
_NEGATED_HANDOFF = re.compile(
    r"\b(?:no need to|do not|dont|not) (?:need to )?(?:talk|speak|transfer|connect)\b.{0,30}"
    r"\b(?:person|human|agent|operator|manager)\b|\bне (?:нужно|надо) (?:оператор|менеджер|"
    r"человек|соедин|переключ)"
)


@dataclass(frozen=True, slots=True)
class Signal:
    """A detected signal and the phrase that triggered it (kept for the handoff reason)."""

    kind: str
    evidence: str


def human_request(text: str) -> Signal | None:
    """A request to talk to a person (operator, manager, a department's staff), or
    ``None``. An explicit "I don't need a person" is not one."""
    normalized = normalize(text)
    if _NEGATED_HANDOFF.search(normalized):
        return None
    for pattern in (*_HUMAN_EN, *_HUMAN_RU):
        found = pattern.search(normalized)
        if found:
            return Signal("human_requested", found.group(0).strip())
    return None


def upset(text: str) -> Signal | None:
    """Signs of an upset or angry customer, or ``None``: complaint and anger words, demands,
    three or more exclamation marks, or shouting (most letters of a long enough message in
    capitals)."""
    normalized = normalize(text)
    for pattern in _UPSET:
        found = pattern.search(normalized)
        if found:
            return Signal("customer_upset", found.group(0).strip())
    if re.search(r"!{3,}|[!?]{4,}", text):
        return Signal("customer_upset", "!!!")
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 12 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7:
        return Signal("customer_upset", "capital letters")
    return None


def billing_dispute(text: str) -> Signal | None:
    """A dispute about a payment already made (charged twice, a refund that never came),
    or ``None``; general questions about refunds are not one."""
    normalized = normalize(text)
    for pattern in _DISPUTES:
        found = pattern.search(normalized)
        if found:
            return Signal("billing_dispute", found.group(0).strip())
    return None
