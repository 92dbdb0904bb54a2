from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from frontline.channels.avito.client import TOKENS
from tests.ai.conftest import llm, llm_server
from tests.channels.avito.fake_avito import FakeAvito, fake_avito

__all__ = ["avito", "llm", "llm_server"]


@pytest.fixture
async def avito() -> AsyncIterator[FakeAvito]:
    TOKENS.clear()  # tokens cached by an earlier test's server
    async with fake_avito() as server:
        yield server
