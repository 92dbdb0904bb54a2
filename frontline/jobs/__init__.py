"""Durable jobs: queue, worker loop and retry policy. No business logic lives here."""
