"""The demo's optional mailbox channel, described by ``FRONTLINE_DEMO_MAILBOX_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

PREFIX = "FRONTLINE_DEMO_MAILBOX_"


def mailbox_config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """A mailbox channel config from the environment; ``None`` unless
    ``FRONTLINE_DEMO_MAILBOX_IMAP_HOST`` is set. SMTP login defaults to the IMAP one and the
    IMAP login to the address (as Gmail, Yandex and Mail.ru expect)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(PREFIX + name, "").strip()
        return value or default

    host = get("IMAP_HOST")
    if not host:
        return None
    address = get("ADDRESS") or get("IMAP_USERNAME") or ""
    username = get("IMAP_USERNAME", address)
    password = get("IMAP_PASSWORD", "")
    config: dict[str, Any] = {
        "from_address": address,
        "from_name": get("FROM_NAME", "Demo Tours"),
        "imap_host": host,
        "imap_security": get("IMAP_SECURITY", "tls"),
        "imap_username": username,
        "imap_password": password,
        "smtp_host": get("SMTP_HOST", host.replace("imap.", "smtp.", 1)),
        "smtp_port": int(get("SMTP_PORT", "465") or 465),
        "smtp_security": get("SMTP_SECURITY", "tls"),
        "smtp_username": get("SMTP_USERNAME", username),
        "smtp_password": get("SMTP_PASSWORD", password),
    }
    if get("IMAP_PORT"):
        config["imap_port"] = int(get("IMAP_PORT") or 0)
    if get("IMAP_FOLDER"):
        config["imap_folder"] = get("IMAP_FOLDER")
    return config
