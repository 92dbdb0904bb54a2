"""Realtime fan-out: a broker (in-memory or Redis) and event publishing after commit."""
