"""Channels: adapters (one package each) behind the Protocol in ``base``, and the registry."""
