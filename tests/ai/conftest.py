"""Fixtures of the AI tests: one fake LLM server per module, reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ai.fakes import FakeLLMServer, serve


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLMServer]:
    with serve(FakeLLMServer()) as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    llm_server.reset()
    yield llm_server
    llm_server.reset()
