"""Shared TLS contexts for outbound HTTP clients.

Building an SSL context (loading the CA store) costs ~25 ms of CPU; HTTP clients built per
call (channel deliveries, LLM calls) reuse these instead. Contexts are immutable once made
and safe to share across threads and event loops.
"""

from __future__ import annotations

import functools
import ssl

import certifi


@functools.cache
def default_context() -> ssl.SSLContext:
    """Verifying context with the same CA bundle httpx uses by default (certifi)."""
    return ssl.create_default_context(cafile=certifi.where())


@functools.cache
def context_for_bundle(ca_bundle: str) -> ssl.SSLContext:
    """Verifying context that trusts only ``ca_bundle`` (raises OSError/SSLError)."""
    return ssl.create_default_context(cafile=ca_bundle)
