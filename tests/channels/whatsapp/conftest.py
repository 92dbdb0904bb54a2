from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.ai.conftest import llm, llm_server
from tests.channels.whatsapp.fake_graph import FakeGraph, fake_graph

__all__ = ["graph", "llm", "llm_server"]


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with fake_graph() as server:
        yield server
