"""Schemathesis hooks of the contract test (``tests/test_api_contract.py``): the right
credential for each operation the owner's token cannot open, so the fuzzer reaches the real
handlers instead of their 401/404.

Loaded by the Schemathesis CLI (``SCHEMATHESIS_HOOKS=tests.contract_hooks``); the test
passes the workspace's ids and secrets in ``FRONTLINE_CONTRACT_CREDENTIALS`` (JSON):

- the customer API: a fresh customer JWT (HS256, ``kid`` the widget key, signed with the
  web channel's secret, as a host backend makes it) and that customer's own conversation;
- the widget: the web channel's key and a visitor token it issued (session, upload), and
  a signed link to a file the visitor uploaded;
- the inbound API channel: its id and ``Bearer`` secret;
- the e-mail webhook: its id and ``X-Frontline-Signature`` over the very bytes sent;
- WhatsApp: its id, ``X-Hub-Signature-256`` over the bytes sent, the verify token;
- Avito: its id and the ``token`` of its webhook URL;
- Telegram (the channel's webhook and the alert bot's): the channel's or workspace's id and
  the ``X-Telegram-Bot-Api-Secret-Token`` its ``setWebhook`` gave.

The generated values are kept where they are not a credential or an id of the workspace,
so the bodies, queries and headers are still the fuzzer's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import schemathesis

from frontline.kit.crypto import sign
from frontline.realtime.visitors import user_hash

CREDENTIALS_ENV = "FRONTLINE_CONTRACT_CREDENTIALS"
# a file each answer's ``<METHOD> <path> <status>`` is appended to (the test reads it)
STATUSES_ENV = "FRONTLINE_CONTRACT_STATUSES"


def _credentials() -> dict[str, Any]:
    raw = os.environ.get(CREDENTIALS_ENV)
    return json.loads(raw) if raw else {}


CREDENTIALS = _credentials()


def _sent_bytes(body: Any) -> bytes | None:
    """The body as the requests transport sends a JSON body (``json.dumps`` defaults); no
    body: empty."""
    if body is None or type(body).__name__ == "NotSet":
        return b""
    try:
        return json.dumps(body, allow_nan=False).encode()
    except (TypeError, ValueError):
        return None


def _customer_token() -> str:
    now = int(time.time())
    payload = {"sub": CREDENTIALS["customer_id"], "iat": now, "exp": now + 600}
    return jwt.encode(
        payload,
        CREDENTIALS["web_secret"],
        algorithm="HS256",
        headers={"kid": CREDENTIALS["widget_key"]},
    )


def _customer(case: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_customer_token()}"}
    if "conversation_id" in (case.path_parameters or {}):
        case.path_parameters["conversation_id"] = CREDENTIALS["customer_conversation_id"]


def _widget(case: Any, path: str) -> None:
    if path.endswith("/{attachment_id}"):
        # a visitor's file through the signed link the server handed out
        link = urlsplit(CREDENTIALS["file_link"])
        case.path_parameters["attachment_id"] = int(link.path.rsplit("/", 1)[-1])
        case.query = {**(case.query or {}), **dict(parse_qsl(link.query))}
        return
    if isinstance(case.body, dict):
        case.body["key"] = CREDENTIALS["widget_key"]
        if path.endswith("/attachments") or case.body.get("visitor_token") is not None:
            case.body["visitor_token"] = CREDENTIALS["visitor_token"]
        user_id = case.body.get("user_id")
        if isinstance(user_id, str) and user_id:
            # a signed-in user of the host site: the hash its backend makes is the credential
            case.body["user_hash"] = user_hash(CREDENTIALS["web_secret"], user_id)


def _webhook(case: Any, path: str, method: str) -> None:
    params = case.path_parameters
    if path == "/api/v1/channels/{channel_id}/messages":
        params["channel_id"] = CREDENTIALS["api_channel_id"]
        secret = CREDENTIALS["api_channel_secret"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secret}"}
    elif path.startswith("/api/v1/webhooks/email/"):
        params["channel_id"] = CREDENTIALS["email_channel_id"]
        raw = _sent_bytes(case.body)
        if raw is not None:
            signature = sign(CREDENTIALS["email_webhook_secret"], raw)
            case.headers = {**(case.headers or {}), "X-Frontline-Signature": signature}
    elif path.startswith("/api/v1/webhooks/whatsapp/"):
        params["channel_id"] = CREDENTIALS["whatsapp_channel_id"]
        if method == "GET":
            verify = {"hub.mode": "subscribe", "hub.verify_token": CREDENTIALS["whatsapp_verify"]}
            case.query = {**(case.query or {}), **verify}
            return
        raw = _sent_bytes(case.body)
        if raw is not None:
            secret = CREDENTIALS["whatsapp_app_secret"].encode()
            mac = hmac.new(secret, raw, hashlib.sha256).hexdigest()
            case.headers = {**(case.headers or {}), "X-Hub-Signature-256": f"sha256={mac}"}
    elif path.startswith("/api/v1/webhooks/avito/"):
        params["channel_id"] = CREDENTIALS["avito_channel_id"]
        case.query = {**(case.query or {}), "token": CREDENTIALS["avito_token"]}
    elif path.startswith("/api/v1/webhooks/telegram/"):
        params["channel_id"] = CREDENTIALS["telegram_channel_id"]
        _telegram_secret(case, CREDENTIALS["telegram_secret"])
    elif path.startswith("/api/v1/webhooks/telegram-alerts/"):
        params["tenant_id"] = CREDENTIALS["tenant_id"]
        _telegram_secret(case, CREDENTIALS["telegram_alerts_secret"])


def _telegram_secret(case: Any, secret: str) -> None:
    case.headers = {**(case.headers or {}), "X-Telegram-Bot-Api-Secret-Token": secret}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if not CREDENTIALS:
        return
    path, method = case.operation.path, case.operation.method.upper()
    if path.startswith("/api/v1/customer/"):
        _customer(case)
    elif path.startswith("/api/v1/widget/"):
        _widget(case, path)
    else:
        _webhook(case, path, method)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    target = os.environ.get(STATUSES_ENV)
    if target:
        line = f"{case.operation.method.upper()} {case.operation.path} {response.status_code}\n"
        with open(target, "a", encoding="utf-8") as out:
            out.write(line)
