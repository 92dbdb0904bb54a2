"""`frontline demo` + `frontline telegram poll` as real processes against the local fake
Bot API: the demo creates a poll-mode channel from FRONTLINE_DEMO_TELEGRAM_BOT_TOKEN, the
poller reads an update with getUpdates, stores it and moves its offset; SIGTERM stops it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from tests.channels.telegram import payloads as p
from tests.channels.telegram.fakebot import BOT_TOKEN, FakeBotApi
from tests.conftest import TEST_SECRET


async def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "frontline",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_demo_channel_and_the_poll_command(tmp_path: Path, bot: FakeBotApi) -> None:
    env = {
        **os.environ,
        "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_JSON": "false",
        "FRONTLINE_ATTACHMENTS_DIR": str(tmp_path / "files"),
    }
    assert (await _run(env, "migrate"))[0] == 0
    # no poll-mode bot yet: the command says so and exits 1
    code, _out, err = await _run(env, "telegram", "poll")
    assert code == 1 and "poll mode" in err
    assert (await _run(env, "telegram", "poll", "--channel", "nope"))[0] == 2

    env |= {
        "FRONTLINE_DEMO_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "FRONTLINE_DEMO_TELEGRAM_API_BASE_URL": bot.base,
    }
    code, out, err = await _run(env, "demo", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["telegram_mode"] == "poll" and info["telegram_channel_id"]

    bot.push_update(p.text_update(7000, 1, "Здравствуйте, есть туры на май?"))
    poller = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "frontline",
        "telegram",
        "poll",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # handled and saved: the next getUpdates asks from past it
        while not any(c.get("offset") == 7001 for c in bot.called("getUpdates")):
            assert time.monotonic() < deadline, "the poller did not move past the update"
            assert poller.returncode is None
            await asyncio.sleep(0.1)
    finally:
        poller.send_signal(signal.SIGTERM)
        _out, err_bytes = await asyncio.wait_for(poller.communicate(), 60)
    assert poller.returncode == 0, err_bytes.decode()

    # the message is in the demo workspace
    from frontline.app import build_services
    from frontline.settings import Settings

    services = build_services(
        Settings(database_url=env["FRONTLINE_DATABASE_URL"], secret_key=TEST_SECRET, env="test")  # type: ignore[arg-type]
    )
    try:
        from sqlalchemy import select

        from frontline.models import Message

        async with services.db.reader() as session:
            texts = (await session.execute(select(Message.text, Message.external_id))).all()
    finally:
        await services.aclose()
    assert ("Здравствуйте, есть туры на май?", f"{p.USER['id']}:1") in [tuple(r) for r in texts]
