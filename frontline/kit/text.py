"""Text a person types (a customer's message, an operator's reply or note): validated alike
on every endpoint that takes it.

Whitespace-only text is refused (it would be stored, shown as an empty bubble and sent to the
AI as nothing); a maximum length is part of every field's schema, so the OpenAPI document
names it and an over-long text gets 422 saying how long it may be.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# the documented maximum of one message typed by a customer or an operator
MAX_MESSAGE_CHARS = 20_000


def not_blank(value: str) -> str:
    """Refuse text made only of whitespace (an empty string is left to ``min_length``)."""
    if value and not value.strip():
        raise PydanticCustomError("blank_text", "text must not be blank (only whitespace)")
    return value


# add to a text field's ``Annotated`` to refuse whitespace-only text
NotBlank = AfterValidator(not_blank)

MessageText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description=f"1..{MAX_MESSAGE_CHARS} characters, not only whitespace",
    ),
    NotBlank,
]
