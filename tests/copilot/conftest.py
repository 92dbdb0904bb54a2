"""The copilot tests use the AI tests' fake LLM server (one per module)."""

from tests.ai.conftest import llm, llm_server

__all__ = ["llm", "llm_server"]
