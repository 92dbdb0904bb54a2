"""The generic REST/webhook API channel."""
