"""``frontline demo`` with a mailbox from the environment, then ``frontline mail poll``, as
real processes on a fresh SQLite file against the private dovecot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.channels.mailservers import PASSWORD, Dovecot, dovecot_server
from tests.channels.test_mailbox import plain_mail
from tests.conftest import TEST_SECRET

__all__ = ["dovecot_server"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_mailbox_from_env_and_mail_poll(tmp_path: Path, dovecot_server: Dovecot) -> None:
    user = dovecot_server.add_user()
    env = {
        **os.environ,
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_JSON": "false",
        "FRONTLINE_DEMO_MAILBOX_ADDRESS": "support@demo.example.com",
        "FRONTLINE_DEMO_MAILBOX_IMAP_HOST": "127.0.0.1",
        "FRONTLINE_DEMO_MAILBOX_IMAP_PORT": str(dovecot_server.port),
        "FRONTLINE_DEMO_MAILBOX_IMAP_SECURITY": "none",
        "FRONTLINE_DEMO_MAILBOX_IMAP_USERNAME": user,
        "FRONTLINE_DEMO_MAILBOX_IMAP_PASSWORD": PASSWORD,
        "FRONTLINE_DEMO_MAILBOX_SMTP_HOST": "127.0.0.1",
        "FRONTLINE_DEMO_MAILBOX_SMTP_PORT": "2525",
        "FRONTLINE_DEMO_MAILBOX_SMTP_SECURITY": "none",
    }
    assert run(env, "migrate").returncode == 0
    demo = run(env, "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    dovecot_server.append(user, plain_mail("Есть ли места на субботу?")[0])
    dovecot_server.append(user, plain_mail("И трансфер нужен")[0])

    first = run(env, "mail", "poll")
    assert first.returncode == 0, first.stderr
    [report] = [json.loads(line) for line in first.stdout.splitlines()]
    assert (report["fetched"], report["stored"], report["error"]) == (2, 2, None)
    again = run(env, "mail", "poll", "--channel", report["channel_id"])
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["fetched"] == 0
    bad = run(env, "mail", "poll", "--channel", "not-a-uuid")
    assert bad.returncode == 2 and "not a channel id" in bad.stderr


def test_mail_poll_exits_1_when_a_mailbox_fails(
    tmp_path: Path, dovecot_server: Dovecot, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from frontline.cli import main
    from frontline.settings import get_settings

    user = dovecot_server.add_user()
    for key, value in {
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_JSON": "false",
        "FRONTLINE_DEMO_MAILBOX_IMAP_HOST": "127.0.0.1",
        "FRONTLINE_DEMO_MAILBOX_IMAP_PORT": str(dovecot_server.port),
        "FRONTLINE_DEMO_MAILBOX_IMAP_SECURITY": "none",
        "FRONTLINE_DEMO_MAILBOX_ADDRESS": "support@demo.example.com",
        "FRONTLINE_DEMO_MAILBOX_IMAP_USERNAME": user,
        "FRONTLINE_DEMO_MAILBOX_IMAP_PASSWORD": "wrong",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        assert main(["migrate"]) == 0
        assert main(["demo", "--json"]) == 0
        assert main(["demo", "--json"]) == 0  # the mailbox is added once
        capsys.readouterr()
        assert main(["mail", "poll"]) == 1
        [line] = capsys.readouterr().out.splitlines()
        assert json.loads(line)["error"].startswith("AuthFailed: IMAP login refused")
    finally:
        get_settings.cache_clear()
