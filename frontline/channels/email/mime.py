"""A raw e-mail (RFC 5322 / MIME bytes, as IMAP returns it) into an :class:`InboundMessage`.

Parsed with the standard ``email`` package. Bodies are decoded by their declared charset
(KOI8-R, windows-1251, UTF-8...; an unknown or missing one falls back to UTF-8, then
windows-1251); the text is the first ``text/plain`` part, else the ``text/html`` one as
text. What the customer quoted from earlier mail and their signature are cut off
(:func:`strip_quoted`). Files (attachments, inline images, forwarded messages) are kept as
:class:`InboundAttachment` with their bytes inline.

Mail that must not start a conversation is marked with a ``skip`` reason: auto-replies
(``Auto-Submitted``, ``Precedence: bulk``, vacation notices), delivery reports (bounces),
and the channel's own address as sender (a copy of our reply), so two robots never answer
each other forever.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    InboundAttachment,
    InboundContact,
    InboundMessage,
)
from frontline.channels.email.adapter import html_to_text, message_ids, normalize_message_id

# a longer text is cut (the inbound pipeline's own limit is larger; mail can be huge)
MAX_TEXT_CHARS = 100_000
_FALLBACK_CHARSETS = ("utf-8", "windows-1251")


@dataclass(frozen=True)
class Bounce:
    """A delivery report saying one of our e-mails could not be delivered."""

    message_id: str  # the Message-ID of our e-mail that failed
    reason: str


@dataclass(frozen=True)
class ParsedMail:
    message: InboundMessage | None  # None when skipped
    skip: str | None = None  # why the mail starts no conversation
    bounce: Bounce | None = None  # a report that our e-mail failed (then ``skip`` is set)


def clean(value: str) -> str:
    """Text safe to store: raw 8-bit header bytes the parser kept as surrogates are decoded
    (UTF-8, else windows-1251) and NUL characters dropped (PostgreSQL refuses both)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            data = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = value.encode("utf-8", "replace")
        for charset in _FALLBACK_CHARSETS:
            try:
                value = data.decode(charset)
                break
            except UnicodeDecodeError:
                continue
        else:
            value = data.decode("utf-8", "replace")
    return value.replace("\x00", "")


def decode_part(part: Message) -> str:
    """A text part's content as ``str``, by its declared charset with fallbacks."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = part.get_content_charset()
    for charset in (declared, *_FALLBACK_CHARSETS) if declared else _FALLBACK_CHARSETS:
        try:
            return payload.decode(charset).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", "replace").replace("\x00", "")


def _header(msg: Message, name: str) -> str:
    """A header's decoded value ('' when missing or undecodable)."""
    try:
        value = msg.get(name)
    except (ValueError, TypeError, LookupError):
        return ""
    return clean(" ".join(str(value).split())) if value is not None else ""


# --- quoted replies and signatures -------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"(wrote|writes|написал|написала|написал\(а\)|пишет)\s*:\s*$|"  # On ... wrote:
    r"<[^<>\s]+@[^<>\s]+>\s*:\s*$",  # "7 дек. 2026 г., в 10:00, Anna <a@b.c>:"
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|исходное сообщение|оригинальное сообщение)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\**(from|от|отправитель)\s*:\**\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\**(sent|date|to|subject|отправлено|дата|кому|тема)\s*:", re.IGNORECASE
)
_MOBILE = re.compile(
    r"^\s*(sent from my \S.*|get outlook for \S.*|"
    r"отправлено (с|из) \S.*|с уважением,?|best regards,?|regards,?)\s*$",
    re.IGNORECASE,
)


def _cut_index(lines: list[str]) -> int:
    """Where the quoted part of a reply starts (``len(lines)`` when there is none)."""
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- "):  # the signature delimiter
            return i
        if _ORIGINAL.match(line):
            return i
        if (
            _OUTLOOK_FROM.match(line)
            and sum(bool(_OUTLOOK_NEXT.match(nxt)) for nxt in lines[i + 1 : i + 5]) >= 2
        ):
            return i
        if _ATTRIBUTION.search(line):
            rest = [x for x in lines[i + 1 :] if x.strip()]
            if rest and rest[0].lstrip().startswith(">"):
                # the attribution may wrap onto two lines ("On Mon, 7 Dec ..., Anna\n<a@b> wrote:")
                if i > 0 and lines[i - 1].strip() and not lines[i - 1].lstrip().startswith(">"):
                    prev = lines[i - 1].strip().lower()
                    if prev.startswith(("on ", "le ", "am ")) or re.match(r"^\d", prev):
                        return i - 1
                return i
    return len(lines)


def strip_quoted(text: str) -> str:
    """The customer's own words: quoted earlier mail (``>`` lines, "On ... wrote:",
    "-----Original Message-----", an Outlook header block) and the signature removed.
    When nothing would be left, the text is kept whole."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _cut_index(lines)]
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    # a closing like "Sent from my iPhone" / "С уважением," and what follows it (a name)
    nonempty = [i for i, line in enumerate(kept) if line.strip()]
    for i in nonempty[-3:]:
        if _MOBILE.match(kept[i]) and i != nonempty[0]:
            kept = kept[:i]
            break
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in kept)).strip()
    return result or text.strip()


# --- structure ---------------------------------------------------------------------------


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    if part.get_content_maintype() == "text" and not part.get_filename():
        return False
    return part.get_content_maintype() != "multipart"


def _kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return {"image": "image", "audio": "audio", "video": "video"}.get(major, "file")


def _walk(msg: Message) -> tuple[str, str, list[InboundAttachment]]:
    """(plain text, html, files) of a message; a forwarded message (``message/rfc822``) is
    one file, not walked into."""
    plain: str | None = None
    html: str | None = None
    files: list[InboundAttachment] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            data = inner_msg.as_bytes() if isinstance(inner_msg, Message) else b""
            files.append(
                InboundAttachment(
                    filename=clean(part.get_filename() or "message.eml"),
                    content_type="message/rfc822",
                    size=len(data),
                    data=data,
                )
            )
            continue
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack[0:0] = [c for c in children if isinstance(c, Message)]
            continue
        if _is_attachment(part):
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            name = part.get_filename()
            files.append(
                InboundAttachment(
                    filename=clean(name) if name else None,
                    content_type=ctype,
                    size=len(data),
                    data=data,
                    kind=_kind(ctype),
                )
            )
        elif ctype == "text/plain" and plain is None:
            plain = decode_part(part)
        elif ctype == "text/html" and html is None:
            html = decode_part(part)
    return plain or "", html or "", files


def _skip_reason(msg: Message, sender: str, own_address: str | None) -> str | None:
    if not sender or "@" not in sender:
        return "no sender address"
    if own_address and sender == own_address.lower():
        return "sent by this mailbox"
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"automatic mail (Auto-Submitted: {auto})"
    if _header(msg, "Precedence").lower() in ("bulk", "junk", "list", "auto_reply"):
        return "bulk or automatic mail (Precedence)"
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return "automatic reply"
    if msg.get_content_type() == "multipart/report" or sender.split("@")[0] in (
        "mailer-daemon",
        "postmaster",
    ):
        return "delivery report"
    return None


_OUR_ID = re.compile(r"<fl\.\d+\.[0-9a-f]{16}@[^<>\s]+>")


def _delivery_status(part: Message) -> tuple[str, str]:
    """(action, reason) of the first recipient block of a ``message/delivery-status``."""
    blocks = part.get_payload()
    fields: dict[str, str] = {}
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Message):
            for key in ("Action", "Status", "Diagnostic-Code", "Final-Recipient"):
                value = _header(block, key)
                if value and key not in fields:
                    fields[key] = value
    reason = " ".join(
        v
        for v in (
            fields.get("Status"),
            fields.get("Diagnostic-Code"),
            fields.get("Final-Recipient"),
        )
        if v
    )
    return fields.get("Action", "").lower(), reason


def find_bounce(msg: Message, raw: bytes) -> Bounce | None:
    """Which of our e-mails a delivery report (RFC 3464, or a mailer daemon's plain text
    quoting it) says failed, and why; ``None`` for a delay notice or someone else's mail."""
    action, reason = "", ""
    original = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            action, reason = _delivery_status(part)
        elif ctype in ("message/rfc822", "message/rfc822-headers", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                original = original or _header(payload[0], "Message-ID")
            elif isinstance(payload, str):
                inner = email.message_from_string(payload, policy=email.policy.default)
                original = original or _header(inner, "Message-ID")
    if action and action != "failed":
        return None  # "delayed", "delivered", "relayed": not a failure
    found = _OUR_ID.findall(original) or _OUR_ID.findall(raw.decode("latin-1"))
    if not found:
        return None
    subject = _header(msg, "Subject")
    return Bounce(found[0], (reason or subject or "undeliverable")[:500])


def parse_mail(
    raw: bytes, own_address: str | None = None, too_large: int | None = None
) -> ParsedMail:
    """Parse one raw message. Never raises on malformed mail: what cannot be read is left
    empty (the Message-ID falls back to a hash of the bytes, so the same mail is always
    the same message). ``too_large``: ``raw`` is only the header of a message of that many
    bytes, over the channel's limit; the message says so instead of its body."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        addresses = getaddresses([_header(msg, "From")])
    except (ValueError, TypeError, IndexError):
        addresses = []
    name, sender = addresses[0] if addresses else ("", "")
    sender = sender.strip().lower()[:320]
    name = name.strip()[:200]
    skip = _skip_reason(msg, sender, own_address)
    if skip:
        bounce = find_bounce(msg, raw) if skip == "delivery report" else None
        return ParsedMail(None, skip, bounce)
    raw_id = _header(msg, "Message-ID")[:400]
    if raw_id.strip():
        found = message_ids(raw_id)
        external_id = normalize_message_id(found[0] if found else raw_id)
    else:
        external_id = f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}@frontline.invalid>"
    try:
        plain, html, files = _walk(msg) if too_large is None else ("", "", [])
    except (ValueError, TypeError, LookupError, AssertionError):
        plain, html, files = "", "", []
    body = plain.strip() or html_to_text(html)
    text = strip_quoted(body)[:MAX_TEXT_CHARS] if body else ""
    subject = _header(msg, "Subject")[:1000]
    if too_large is not None:
        size = f"{too_large / 1_000_000:.1f}"
        text = (
            f"Письмо слишком большое ({size} МБ): текст и файлы не загружены, "
            f"откройте его в почтовом ящике. / The e-mail is too large ({size} MB): its "
            "text and files were not imported; open it in the mailbox."
        )
    if not text and not files:
        text = subject or "(no text)"
    refs = (*message_ids(_header(msg, "In-Reply-To")), *message_ids(_header(msg, "References")))
    inbound = InboundMessage(
        external_id=external_id,
        contact=InboundContact(external_id=sender, name=name or None, email=sender),
        text=text,
        subject=subject or None,
        thread_refs=tuple(dict.fromkeys(r for r in refs if r != external_id)),
        new_thread_if_unmatched=True,
        meta={"subject": subject, "to": _header(msg, "To")},
        attachments=tuple(files[:MAX_ATTACHMENTS_PER_MESSAGE]),
    )
    return ParsedMail(inbound)
