"""LLM provider adapters (one module each) behind the contract in ``frontline.ai.base``."""
