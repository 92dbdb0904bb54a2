"""Every error message the code raises has its Russian text (frontline.kit.error_text).

The source is walked: each message given to an ``AppError`` (or a subclass), to
``error_body``, to ``PydanticCustomError`` or to a schema validator's ``ValueError`` must be
known to the tables - a fixed message whole, a message with values in it (an f-string)
with each value stood in for by a sample. A new message without a translation fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from frontline.kit.error_text import known, to_russian
from frontline.kit.i18n import from_accept_language

SOURCE = Path(__file__).resolve().parents[2] / "frontline"
BASES = {
    "AppError",
    "NotFound",
    "Unauthorized",
    "Forbidden",
    "Conflict",
    "PayloadTooLarge",
    "Unprocessable",
    "TooManyRequests",
    # raised below the HTTP layer, their words reach the client
    "InvalidPayload",
    "SignatureRejected",
    "DocumentError",
}
# modules whose ValueErrors are request validation (pydantic shows them to the client)
VALIDATING = ("schemas.py", "adapter.py", "alerts.py", "text.py", "base.py")


def _error_classes(trees: list[ast.Module]) -> set[str]:
    names = set(BASES)
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in names
                    and any(isinstance(b, ast.Name) and b.id in names for b in node.bases)
                ):
                    names.add(node.name)
                    grew = True
    return names


def _sample(node: ast.expr) -> str | None:
    """The message a literal or an f-string gives, each value replaced by ``7``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                assert isinstance(value, ast.FormattedValue)
                parts.append("'7'" if value.conversion == ord("r") else "7")
        return "".join(parts)
    return None  # a variable (a provider's own words): the code's sentence + the original


def _messages() -> list[tuple[str, str]]:
    files = sorted(SOURCE.rglob("*.py"))
    trees = [ast.parse(f.read_text()) for f in files]
    errors = _error_classes(trees)
    found: list[tuple[str, str]] = []
    for path, tree in zip(files, trees, strict=True):
        where = str(path.relative_to(SOURCE.parent))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name = node.func.id
            arg: ast.expr | None = None
            if name in errors and node.args:
                arg = node.args[0]
            elif name in ("error_body", "PydanticCustomError") and len(node.args) > 1:
                arg = node.args[1]
            elif name == "ValueError" and node.args and path.name in VALIDATING:
                arg = node.args[0]
            text = _sample(arg) if arg is not None else None
            # values only ("{exc}: {details}"): nothing of ours to translate
            if text is not None and text.replace("7", "").strip(" :'"):
                found.append((f"{where}:{node.lineno}", text))
    return found


MESSAGES = _messages()


def test_the_walk_finds_the_messages() -> None:
    assert len(MESSAGES) > 150
    assert any(text == "conversation not found" for _, text in MESSAGES)


@pytest.mark.parametrize(("where", "message"), MESSAGES, ids=[w for w, _ in MESSAGES])
def test_every_raised_message_has_its_russian_text(where: str, message: str) -> None:
    russian = known(message)
    assert russian is not None, f"{where}: no Russian text for {message!r}"
    assert any("а" <= ch <= "я" for ch in russian.lower()), (where, russian)


def test_values_are_carried_into_the_russian_text() -> None:
    assert to_russian("too many messages from this contact: at most 20 a minute") == (
        "слишком много сообщений от этого контакта: не больше 20 в минуту"
    )
    assert to_russian("String should have at most 20000 characters") == (
        "строка должна содержать не больше 20000 символов"
    )
    assert to_russian("Value error, ends_at must be after starts_at") == (
        "ends_at должно быть позже starts_at"
    )


def test_an_unknown_message_keeps_its_words_after_the_code_s_sentence() -> None:
    assert to_russian("Bad Request: chat not found", "telegram_refused", 422) == (
        "Telegram отказал: Bad Request: chat not found"
    )
    assert to_russian("something new", "", 404) == "не найдено: something new"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, None),
        ("", None),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE, ru;q=0.5", "ru"),
        ("en;q=0.2, ru;q=0.7", "ru"),
        ("ru;q=0, en", "en"),
        ("fr, de", None),
        ("ru;q=abc, en;q=0.1", "en"),
    ],
)
def test_the_preferred_language(header: str | None, locale: str | None) -> None:
    assert from_accept_language(header) == locale
