"""Messenger channels of the demo workspace, created from environment variables.

``frontline demo`` (and ``frontline serve`` on first start) adds each channel whose
variables are all set, once; the webhook URLs to give the provider are printed:

- WhatsApp Cloud API: ``FRONTLINE_DEMO_WHATSAPP_PHONE_NUMBER_ID``, ``..._ACCESS_TOKEN``,
  ``..._APP_SECRET``, ``..._VERIFY_TOKEN`` (optional ``..._GRAPH_BASE_URL``);
- Avito Messenger: ``FRONTLINE_DEMO_AVITO_CLIENT_ID``, ``..._CLIENT_SECRET``,
  ``..._USER_ID`` (optional ``..._API_BASE_URL``); its webhook is subscribed at Avito by a
  job right after creation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels import service as channels
from frontline.channels.base import ChannelType, InvalidPayload
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope

# channel type -> (name, {config key: variable}, optional config keys)
ENV_CHANNELS: dict[ChannelType, tuple[str, dict[str, str], tuple[str, ...]]] = {
    ChannelType.WHATSAPP: (
        "WhatsApp",
        {
            "phone_number_id": "FRONTLINE_DEMO_WHATSAPP_PHONE_NUMBER_ID",
            "access_token": "FRONTLINE_DEMO_WHATSAPP_ACCESS_TOKEN",
            "app_secret": "FRONTLINE_DEMO_WHATSAPP_APP_SECRET",
            "verify_token": "FRONTLINE_DEMO_WHATSAPP_VERIFY_TOKEN",
            "graph_base_url": "FRONTLINE_DEMO_WHATSAPP_GRAPH_BASE_URL",
        },
        ("graph_base_url",),
    ),
    ChannelType.AVITO: (
        "Авито",
        {
            "client_id": "FRONTLINE_DEMO_AVITO_CLIENT_ID",
            "client_secret": "FRONTLINE_DEMO_AVITO_CLIENT_SECRET",
            "user_id": "FRONTLINE_DEMO_AVITO_USER_ID",
            "api_base_url": "FRONTLINE_DEMO_AVITO_API_BASE_URL",
        },
        ("api_base_url",),
    ),
}


def env_config(
    channel_type: ChannelType, environ: Mapping[str, str] = os.environ
) -> dict[str, Any] | None:
    """The channel's config from the environment; ``None`` unless every required variable
    is set."""
    _name, variables, optional = ENV_CHANNELS[channel_type]
    config = {key: environ.get(var, "").strip() for key, var in variables.items()}
    if any(not config[key] for key in variables if key not in optional):
        return None
    return {key: value for key, value in config.items() if value}


async def add_env_channels(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    ids: dict[str, Any],
    environ: Mapping[str, str] = os.environ,
) -> dict[str, Any]:
    """Create the channels configured in the environment that ``ids`` (the demo's record
    of what it made) does not list yet; returns ``ids`` with theirs added. A variable with
    an invalid value fails with :class:`InvalidPayload` naming the field."""
    ids = dict(ids)
    for channel_type, (name, _variables, _optional) in ENV_CHANNELS.items():
        key = f"{channel_type.value}_channel_id"
        config = env_config(channel_type, environ)
        if ids.get(key) or config is None:
            continue
        try:
            channel, _secret = await channels.create_channel(
                session, scope, box, channel_type=channel_type, name=name, config=config
            )
        except InvalidPayload as exc:
            raise InvalidPayload(f"demo {channel_type.value} channel: {exc}", exc.fields) from exc
        ids[key] = str(channel.id)
    return ids


def webhook_urls(public_url: str, ids: Mapping[str, Any]) -> dict[str, str]:
    """The webhook URLs of the demo's messenger channels (Avito's carries its secret and is
    subscribed automatically, so it is not listed)."""
    base = public_url.rstrip("/")
    urls = {}
    if ids.get("whatsapp_channel_id"):
        urls["whatsapp"] = f"{base}/api/v1/webhooks/whatsapp/{ids['whatsapp_channel_id']}"
    return urls
