"""AI settings (chain with write-only, encrypted keys) and the AI log with its retention.

Secrets never leave this module in clear except through :func:`load_runtime_settings` and
:func:`runtime_settings`, which the AI job uses to build provider adapters; nothing here logs
them.
"""

from __future__ import annotations

import json
import threading
import types
import typing
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.base import ProviderConfig, ProviderError, ProviderKind
from frontline.ai.moderation import load_settings as load_moderation
from frontline.ai.providers.registry import (
    REGISTRY,
    InvalidProviderConfig,
    validate_config,
)
from frontline.aisettings.behaviour import WorkingHours, auto_reply_for
from frontline.aisettings.repository import (
    AiCallFilter,
    AiCallRepository,
    AiSettingsRepository,
    delete_calls_before,
    delete_calls_of_other_tenants_before,
    retention_days_by_tenant,
)
from frontline.aisettings.schemas import (
    AiSettingsIn,
    AiSettingsOut,
    ChainEntryIn,
    ChainEntryOut,
)
from frontline.errors import Conflict, NotFound, Unprocessable
from frontline.kit.crypto import DecryptionError, SecretBox
from frontline.kit.pagination import InvalidCursor, decode_time_cursor, time_page
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import AiCall, AiSettings

DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 800
DEFAULT_HISTORY_SIZE = 10
DEFAULT_LOG_RETENTION_DAYS = 90

# the credential an entry's ``api_key`` stands for, where the provider names it otherwise
_KEY_FIELD: dict[ProviderKind, str] = {ProviderKind.GIGACHAT: "authorization_key"}


class InvalidSettings(Unprocessable):
    """Settings that do not validate; ``fields`` lists the errors (locations and messages,
    never the submitted values)."""

    def __init__(self, message: str, fields: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.fields = fields


@dataclass(frozen=True)
class RuntimeProvider:
    """One chain entry with its secrets merged into ``config`` (ready for
    ``frontline.ai.providers.registry.build_provider``). ``validated`` is that config parsed
    by its provider's model (frozen), ``None`` when it does not validate (the chain then
    reports the error when it reaches the entry)."""

    id: str
    kind: ProviderKind
    model: str
    config: dict[str, Any]
    validated: ProviderConfig | None = field(default=None, compare=False, repr=False)

    @property
    def link_config(self) -> Mapping[str, Any] | ProviderConfig:
        """What a chain link takes: the validated config when there is one."""
        return self.validated if self.validated is not None else self.config


@dataclass(frozen=True)
class AiRuntimeSettings:
    """A tenant's decrypted AI settings, for the AI job.

    ``chain`` is the configured chain only; the offline engine is the caller's last resort
    when ``offline_fallback`` is on (it need not be listed).
    """

    chain: tuple[RuntimeProvider, ...] = ()
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    system_prompt: str = ""
    answer_style: str = ""
    auto_reply: bool = True
    auto_booking: bool = False
    offline_fallback: bool = True
    ai_enabled: bool = True
    escalation_keywords: tuple[str, ...] = field(default_factory=tuple)
    out_of_scope_examples: tuple[str, ...] = field(default_factory=tuple)
    history_size: int = DEFAULT_HISTORY_SIZE
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    reply_languages: tuple[str, ...] = ()
    channel_auto_reply: Mapping[str, bool] = field(default_factory=dict)
    handoff_threshold: float = 0.0
    working_hours: WorkingHours | None = None

    def for_channel(self, channel_id: uuid.UUID) -> AiRuntimeSettings:
        """These settings on one channel: its own auto-reply switch when set."""
        on = auto_reply_for(self.auto_reply, self.channel_auto_reply, channel_id)
        return self if on == self.auto_reply else replace(self, auto_reply=on)


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_secret(a) for a in typing.get_args(annotation))
    return False


def secret_fields(kind: ProviderKind) -> set[str]:
    """Names of the config fields of ``kind`` that hold secrets (stored encrypted)."""
    spec = REGISTRY.get(kind)
    if spec is None:
        return {"api_key"}
    return {name for name, f in spec.config_model.model_fields.items() if _is_secret(f.annotation)}


def key_field(kind: ProviderKind) -> str:
    return _KEY_FIELD.get(kind, "api_key")


def _decrypt_secrets(row: AiSettings | None, box: SecretBox) -> dict[str, dict[str, str]]:
    if row is None or not row.secrets_encrypted:
        return {}
    data: dict[str, dict[str, str]] = json.loads(_decrypt(row.secrets_encrypted, box))
    return data


_UNREADABLE = (
    "the stored AI provider keys cannot be decrypted with the configured secret keys; "
    "list the key they were written with in FRONTLINE_PREVIOUS_SECRET_KEYS"
)


def _decrypt(ciphertext: str, box: SecretBox) -> str:
    try:
        return box.decrypt(ciphertext)
    except DecryptionError:
        raise Conflict(_UNREADABLE) from None


def _entry_out(entry: dict[str, Any]) -> ChainEntryOut:
    kind = ProviderKind(entry["kind"])
    names = sorted(entry.get("secret_fields", []))
    return ChainEntryOut(
        id=entry["id"],
        kind=kind,
        model=entry["model"],
        config=dict(entry.get("config", {})),
        has_api_key=key_field(kind) in names,
        secret_fields=names,
    )


def _default_row() -> AiSettings:
    """The settings a tenant has before it sets any (unsaved; ``updated_at`` is None)."""
    return AiSettings(
        provider_chain=[],
        secrets_encrypted=None,
        temperature=DEFAULT_TEMPERATURE,
        max_tokens=DEFAULT_MAX_TOKENS,
        system_prompt="",
        answer_style="",
        auto_reply=True,
        auto_booking=False,
        offline_fallback=True,
        ai_enabled=True,
        escalation_keywords=[],
        out_of_scope_examples=[],
        history_size=DEFAULT_HISTORY_SIZE,
        log_retention_days=DEFAULT_LOG_RETENTION_DAYS,
        reply_languages=[],
        channel_auto_reply={},
        handoff_threshold=0.0,
        working_hours=None,
        moderation=None,
    )


def to_out(row: AiSettings | None) -> AiSettingsOut:
    """The settings as the API shows them: secrets replaced by their presence."""
    if row is None:
        row = _default_row()
    return AiSettingsOut(
        provider_chain=[_entry_out(e) for e in row.provider_chain],
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        system_prompt=row.system_prompt,
        answer_style=row.answer_style,
        auto_reply=row.auto_reply,
        auto_booking=row.auto_booking,
        offline_fallback=row.offline_fallback,
        ai_enabled=row.ai_enabled,
        escalation_keywords=list(row.escalation_keywords),
        out_of_scope_examples=list(row.out_of_scope_examples or ()),
        history_size=row.history_size,
        log_retention_days=row.log_retention_days,
        reply_languages=list(row.reply_languages or []),
        channel_auto_reply=dict(row.channel_auto_reply or {}),
        handoff_threshold=row.handoff_threshold or 0.0,
        working_hours=_hours(row.working_hours),
        moderation=load_moderation(row.moderation),
        updated_at=row.updated_at,
    )


async def get_settings(session: AsyncSession, scope: TenantScope) -> AiSettings | None:
    """The tenant's settings row, ``None`` when never set (the defaults apply)."""
    return await AiSettingsRepository(session, scope).current()


def _match(
    entries: list[ChainEntryIn], stored: list[dict[str, Any]]
) -> list[dict[str, Any] | None]:
    """The stored entry each new entry continues (by id, else by kind and model)."""
    by_id = {e["id"]: e for e in stored}
    used: set[str] = set()
    out: list[dict[str, Any] | None] = []
    for entry in entries:
        found: dict[str, Any] | None = None
        if entry.id is not None:
            found = by_id.get(entry.id)
        else:
            for candidate in stored:
                if (
                    candidate["id"] not in used
                    and candidate["kind"] == entry.kind.value
                    and candidate["model"] == entry.model
                ):
                    found = candidate
                    break
        if found is not None and found["id"] in used:
            found = None
        if found is not None:
            used.add(found["id"])
        out.append(found)
    return out


def _build_chain(
    entries: list[ChainEntryIn],
    stored: list[dict[str, Any]],
    stored_secrets: dict[str, dict[str, str]],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    ids = [e.id for e in entries if e.id is not None]
    if len(ids) != len(set(ids)):
        raise InvalidSettings(
            "invalid AI settings",
            [{"loc": ["body", "provider_chain"], "message": "duplicate entry id", "type": "value"}],
        )
    chain: list[dict[str, Any]] = []
    secrets: dict[str, dict[str, str]] = {}
    errors: list[dict[str, Any]] = []
    taken = set(ids)
    for index, (entry, previous) in enumerate(zip(entries, _match(entries, stored), strict=True)):
        entry_id = entry.id or (previous["id"] if previous else None)
        if entry_id is None or (entry.id is None and entry_id in taken):
            entry_id = uuid.uuid4().hex[:12]
        taken.add(entry_id)
        names = secret_fields(entry.kind)
        kept = dict(stored_secrets.get(previous["id"], {})) if previous else {}
        kept = {k: v for k, v in kept.items() if k in names}
        config = dict(entry.config)
        for name in names & set(config):  # secrets given inside config: write-only too
            value = config.pop(name)
            if value is None:
                kept.pop(name, None)
            else:
                kept[name] = str(value)
        if "api_key" in entry.model_fields_set:
            if entry.api_key is None:
                kept.pop(key_field(entry.kind), None)
            else:
                kept[key_field(entry.kind)] = entry.api_key.get_secret_value()
        if entry.kind in REGISTRY:
            try:
                parsed = validate_config(entry.kind, {**config, **kept})
            except InvalidProviderConfig as exc:
                for f in exc.fields:
                    loc = ["body", "provider_chain", str(index), "config", *f["loc"]]
                    errors.append({**f, "loc": loc})
                continue
            config = parsed.model_dump(mode="json", exclude=names, exclude_unset=True)
        chain.append(
            {
                "id": entry_id,
                "kind": entry.kind.value,
                "model": entry.model,
                "config": config,
                "secret_fields": sorted(kept),
            }
        )
        if kept:
            secrets[entry_id] = kept
    if errors:
        raise InvalidSettings("invalid provider config", errors)
    return chain, secrets


async def update_settings(
    session: AsyncSession, scope: TenantScope, box: SecretBox, body: AiSettingsIn
) -> AiSettings:
    """Apply ``body`` (fields left out keep their value) and store keys encrypted."""
    repo = AiSettingsRepository(session, scope)
    row = await repo.current(for_update=True)
    if row is None:
        row = repo.add(_default_row())
    if body.provider_chain is not None:
        chain, secrets = _build_chain(
            body.provider_chain, list(row.provider_chain), _decrypt_secrets(row, box)
        )
        row.provider_chain = chain
        row.secrets_encrypted = box.encrypt(json.dumps(secrets)) if secrets else None
    for name in (
        "temperature",
        "max_tokens",
        "system_prompt",
        "answer_style",
        "auto_reply",
        "auto_booking",
        "offline_fallback",
        "ai_enabled",
        "history_size",
        "log_retention_days",
    ):
        value = getattr(body, name)
        if value is not None:
            setattr(row, name, value)
    if body.reply_languages is not None:
        row.reply_languages = list(dict.fromkeys(body.reply_languages))
    if body.channel_auto_reply is not None:
        row.channel_auto_reply = {str(k): v for k, v in body.channel_auto_reply.items()}
    if body.handoff_threshold is not None:
        row.handoff_threshold = body.handoff_threshold
    if "working_hours" in body.model_fields_set:
        hours = body.working_hours
        row.working_hours = hours.model_dump() if hours is not None else None
    if body.moderation is not None:
        current = load_moderation(row.moderation)
        row.moderation = body.moderation.apply(current).model_dump(mode="json")
    if body.escalation_keywords is not None:
        keywords = [k.strip() for k in body.escalation_keywords]
        row.escalation_keywords = list(dict.fromkeys(k for k in keywords if k))
    if body.out_of_scope_examples is not None:
        examples = [" ".join(e.split()) for e in body.out_of_scope_examples]
        row.out_of_scope_examples = list(dict.fromkeys(e for e in examples if e))
    row.updated_at = utcnow()
    await session.flush()
    return row


async def rotate_keys(session: AsyncSession, scope: TenantScope, box: SecretBox) -> int:
    """Re-encrypt the tenant's stored secrets under the current (first) key; returns how
    many ciphertexts were rewritten."""
    row = await AiSettingsRepository(session, scope).current(for_update=True)
    if row is None or not row.secrets_encrypted:
        return 0
    _decrypt(row.secrets_encrypted, box)  # a clear 409 when no configured key opens it
    row.secrets_encrypted = box.rotate(row.secrets_encrypted)
    await session.flush()
    return 1


async def load_runtime_settings(
    session: AsyncSession, scope: TenantScope, box: SecretBox
) -> AiRuntimeSettings:
    """The tenant's settings with decrypted keys for the AI job (defaults when unset)."""
    row = await get_settings(session, scope)
    if row is None:
        return AiRuntimeSettings()
    columns = {name: getattr(row, name) for name in RUNTIME_COLUMNS}
    columns["provider_chain"] = json.dumps(row.provider_chain)
    return runtime_settings(columns, box)


# the settings columns :func:`runtime_settings` reads (``provider_chain`` as its JSON text)
RUNTIME_COLUMNS = (
    "provider_chain",
    "secrets_encrypted",
    "temperature",
    "max_tokens",
    "system_prompt",
    "answer_style",
    "auto_reply",
    "auto_booking",
    "offline_fallback",
    "ai_enabled",
    "escalation_keywords",
    "out_of_scope_examples",
    "history_size",
    "log_retention_days",
    "reply_languages",
    "channel_auto_reply",
    "handoff_threshold",
    "working_hours",
)


def _hours(stored: Any) -> WorkingHours | None:
    return WorkingHours.model_validate(stored) if stored else None


def runtime_settings(columns: Mapping[str, Any] | None, box: SecretBox) -> AiRuntimeSettings:
    """The AI job's settings from the stored columns (:data:`RUNTIME_COLUMNS`, read by the
    caller together with the rest of its context; ``None``: never set, the defaults).

    Decrypting the keys and validating the provider configs happen once per distinct
    stored chain, not per call: the result is cached per process (per ``box``) under the
    chain's JSON text and ciphertext as read in the caller's query, so a settings change
    is seen by the very next turn of every process - the cache cannot serve stale keys."""
    if columns is None:
        return AiRuntimeSettings()
    return AiRuntimeSettings(
        chain=_runtime_chain(box, str(columns["provider_chain"]), columns["secrets_encrypted"]),
        temperature=columns["temperature"],
        max_tokens=columns["max_tokens"],
        system_prompt=columns["system_prompt"],
        answer_style=columns["answer_style"],
        auto_reply=columns["auto_reply"],
        auto_booking=columns["auto_booking"],
        offline_fallback=columns["offline_fallback"],
        ai_enabled=columns["ai_enabled"],
        escalation_keywords=tuple(columns["escalation_keywords"] or ()),
        out_of_scope_examples=tuple(columns.get("out_of_scope_examples") or ()),
        history_size=columns["history_size"],
        log_retention_days=columns["log_retention_days"],
        reply_languages=tuple(columns.get("reply_languages") or ()),
        channel_auto_reply=dict(columns.get("channel_auto_reply") or {}),
        handoff_threshold=float(columns.get("handoff_threshold") or 0.0),
        working_hours=_hours(columns.get("working_hours")),
    )


_CHAIN_CACHE_ENTRIES = 1024
_ChainKey = tuple[str, str | None]
_chain_caches: weakref.WeakKeyDictionary[SecretBox, dict[_ChainKey, tuple[RuntimeProvider, ...]]]
_chain_caches = weakref.WeakKeyDictionary()
_chain_lock = threading.Lock()


def _runtime_chain(
    box: SecretBox, chain_json: str, secrets_encrypted: str | None
) -> tuple[RuntimeProvider, ...]:
    key = (chain_json, secrets_encrypted)
    with _chain_lock:
        cache = _chain_caches.setdefault(box, {})
        found = cache.get(key)
    if found is not None:
        # the configs are the caller's to keep (the validated ones are frozen)
        return tuple(replace(p, config=dict(p.config)) for p in found)
    entries: list[dict[str, Any]] = json.loads(chain_json) or []
    secrets: dict[str, dict[str, str]] = (
        json.loads(_decrypt(secrets_encrypted, box)) if secrets_encrypted else {}
    )
    chain = tuple(
        _runtime_provider(e, {**e.get("config", {}), **secrets.get(e["id"], {})}) for e in entries
    )
    with _chain_lock:
        if len(cache) >= _CHAIN_CACHE_ENTRIES:
            cache.clear()
        cache[key] = tuple(replace(p, config=dict(p.config)) for p in chain)
    return chain


def _runtime_provider(entry: dict[str, Any], config: dict[str, Any]) -> RuntimeProvider:
    kind = ProviderKind(entry["kind"])
    validated: ProviderConfig | None = None
    if kind is not ProviderKind.OFFLINE:
        try:
            validated = validate_config(kind, config)
        except ProviderError:
            validated = None  # the chain reports it when it reaches this entry
    return RuntimeProvider(
        id=entry["id"], kind=kind, model=entry["model"], config=config, validated=validated
    )


# --- the AI log ---------------------------------------------------------------------------


async def record_call(session: AsyncSession, scope: TenantScope, **fields: Any) -> AiCall:
    """Store one LLM call in the caller's transaction (with the effect it had) and return
    it; ``fields`` are :func:`call_row`'s. ``prompt`` is JSON-able: the list of chat
    messages, or the text sent."""
    call = AiCallRepository(session, scope).add(AiCall(**call_row(**fields)))
    await session.flush()
    return call


def call_row(
    *,
    provider: str,
    model: str,
    prompt: Any,
    answer: str = "",
    decision: str | None = None,
    tokens_in: int = 0,
    tokens_out: int = 0,
    latency_ms: float = 0,
    cost: float | None = None,
    error: str | None = None,
    conversation_id: int | None = None,
    message_id: int | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """One LLM call as :func:`record_calls` stores it (the arguments of :func:`record_call`);
    ``purpose`` names a call that is not the customer's turn (``copilot.suggest``, ...)."""
    return {
        "purpose": purpose,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "provider": provider,
        "model": model,
        "prompt": prompt,
        "answer": answer,
        "decision": decision,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "latency_ms": round(latency_ms),
        "cost": cost,
        "error": error,
        "created_at": utcnow(),
    }


async def record_calls(
    session: AsyncSession, scope: TenantScope, rows: list[dict[str, Any]]
) -> None:
    """Store LLM calls (rows of :func:`call_row`) in the caller's transaction, in one
    statement and without entities (the AI job's hot path)."""
    await AiCallRepository(session, scope).insert_rows(rows)


async def get_call(session: AsyncSession, scope: TenantScope, call_id: int) -> AiCall:
    call = await AiCallRepository(session, scope).get(call_id)
    if call is None:
        raise NotFound("AI call not found")
    return call


async def list_calls(
    session: AsyncSession,
    scope: TenantScope,
    flt: AiCallFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[AiCall], str | None]:
    """Newest first, ``limit`` at a time; the cursor continues after the last one."""
    try:
        after = decode_time_cursor(cursor)
    except InvalidCursor:
        raise Unprocessable("invalid cursor") from None
    rows = await AiCallRepository(session, scope).search(flt, limit=limit + 1, after=after)
    return time_page(rows, limit, lambda c: c.created_at, lambda c: c.id)


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete AI calls older than their tenant's ``log_retention_days`` (the default for
    tenants without settings); returns how many. Runs for every tenant (maintenance job)."""
    retention = await retention_days_by_tenant(session)
    deleted = 0
    for tenant_id, days in retention.items():
        deleted += await delete_calls_before(session, tenant_id, now - timedelta(days=days))
    deleted += await delete_calls_of_other_tenants_before(
        session, set(retention), now - timedelta(days=DEFAULT_LOG_RETENTION_DAYS)
    )
    return deleted
