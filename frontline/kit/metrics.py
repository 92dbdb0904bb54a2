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

# --- what an operator watches (see README, "What to monitor") ------------------------------
# Labels are bounded sets (provider kinds, channel types, job kinds, fixed outcomes): never
# a tenant, conversation or message id.

ai_turns = Counter(
    "frontline_ai_turns_total",
    "AI first-line turns by the provider that answered (none: no provider did) and what "
    "became of the turn: answered, fell_back (answered after an earlier provider failed), "
    "handed_off, suggested (a draft for an operator), booking (a pending booking proposed), "
    "superseded (an operator took over meanwhile), failed (every provider failed, or the "
    "job died)",
    ["provider", "outcome"],
    registry=registry,
)
llm_call_latency = Histogram(
    "frontline_llm_call_seconds",
    "LLM provider call latency (each attempt of a fallback chain), by outcome ok|error",
    ["provider", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
    registry=registry,
)
llm_tokens = Counter(
    "frontline_llm_tokens_total",
    "LLM tokens used, by provider and direction (input|output)",
    ["provider", "direction"],
    registry=registry,
)
llm_cost = Counter(
    "frontline_llm_cost_total",
    "LLM cost by provider, in the price table's currency (USD by default)",
    ["provider"],
    registry=registry,
)
deliveries = Counter(
    "frontline_outbound_deliveries_total",
    "Outbound message deliveries by channel type and outcome (sent, failed: final, "
    "retried: a transient failure that will be tried again, unknown: may or may not "
    "have arrived)",
    ["channel_type", "outcome"],
    registry=registry,
)
websocket_connections = Gauge(
    "frontline_websocket_connections",
    "Open realtime WebSocket connections of this process (console|widget)",
    ["surface"],
    registry=registry,
)
signin_failures = Counter(
    "frontline_signin_failures_total",
    "Failed staff sign-ins (wrong e-mail or password)",
    registry=registry,
)
signin_throttled = Counter(
    "frontline_signin_throttled_total",
    "Sign-in throttling: back-offs imposed after failures (imposed) and attempts refused "
    "while backing off (refused)",
    ["action"],
    registry=registry,
)
jobs_ready = Gauge(
    "frontline_jobs_ready",
    "Queued jobs due now, by kind (sampled at scrape time by the API, every few seconds by "
    "a worker)",
    ["kind"],
    registry=registry,
)
jobs_lag = Gauge(
    "frontline_jobs_lag_seconds",
    "Age of the oldest job due and not yet claimed, by kind (0 when none waits)",
    ["kind"],
    registry=registry,
)
jobs_dead = Gauge(
    "frontline_jobs_dead",
    "Dead jobs (failed for good, kept for an admin to re-queue), by kind",
    ["kind"],
    registry=registry,
)


# known label values start at 0, so their series exist (and alerts evaluate) before the first
# event
for _surface in ("console", "widget"):
    websocket_connections.labels(_surface)
for _action in ("imposed", "refused"):
    signin_throttled.labels(_action)
