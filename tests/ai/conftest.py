"""Fixtures of the AI tests: one fake LLM server per module, reset around each test.

``fake_server``/``fake`` serve the embeddings tests (``fake`` also forgets GigaChat's cached
access tokens); modules with their own fixtures of those names override them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from frontline.ai.providers.gigachat import TOKENS
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


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeLLMServer]:
    with serve(FakeLLMServer()) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    fake_server.reset()
    TOKENS.clear()
    yield fake_server
    fake_server.reset()
    TOKENS.clear()
