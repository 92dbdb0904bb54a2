"""A fake Telegram Bot API (tests/channels/telegram/fakebot.py) for the browser tests, on its
own event loop in a thread: the server under test is another process."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tests.channels.telegram.fakebot import FakeBotApi, fake_bot_api


class ThreadedBot:
    """A fake Bot API (tests/channels/telegram/fakebot.py) on its own event loop in a
    thread: the server under test is another process."""

    def __init__(self, token: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.api: FakeBotApi | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, args=(token,), daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "fake Bot API did not start"

    def _run(self, token: str) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            async with fake_bot_api(token) as api:
                self.api = api
                self.ready.set()
                await self._stop.wait()

        self.loop.run_until_complete(main())

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the bot's loop (its state belongs to that thread)."""
        done: asyncio.Future[Any] = asyncio.run_coroutine_threadsafe(_wrap(fn, *args), self.loop)
        return done.result(10)

    def close(self) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)
        self.loop.close()


async def _wrap(fn: Any, *args: Any) -> Any:
    return fn(*args)
