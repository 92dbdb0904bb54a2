"""Prometheus metrics of a Frontline process, on one registry served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

registry = CollectorRegistry(auto_describe=True)

http_requests = Counter(
    "frontline_http_requests_total",
    "HTTP requests handled",
    ["method", "route", "status"],
    registry=registry,
)
http_latency = Histogram(
    "frontline_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)
inbound_messages = Counter(
    "frontline_inbound_messages_total",
    "Inbound customer messages accepted",
    ["channel_type", "duplicate"],
    registry=registry,
)
inbound_throttled = Counter(
    "frontline_inbound_throttled_total",
    "Inbound messages over a per-contact or per-tenant rate limit (refused or stored unanswered)",
    ["channel_type", "scope", "action"],
    registry=registry,
)
inbound_moderated = Counter(
    "frontline_inbound_moderated_total",
    "Inbound messages moderation flagged or held, by rule (one message may count for several)",
    ["rule", "mode"],
    registry=registry,
)
jobs_processed = Counter(
    "frontline_jobs_processed_total",
    "Jobs finished by this process",
    ["kind", "outcome"],
    registry=registry,
)
jobs_by_state = Gauge(
    "frontline_jobs",
    "Jobs in the database by state (sampled at scrape time)",
    ["status"],
    registry=registry,
)
