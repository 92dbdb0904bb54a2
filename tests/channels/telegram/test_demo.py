"""`frontline demo` creates the demo's Telegram channel from FRONTLINE_DEMO_TELEGRAM_BOT_TOKEN."""

from __future__ import annotations

from pydantic import SecretStr

from frontline.demo import ensure_demo
from frontline.deps import Services
from tests.channels.telegram.fakebot import BOT_TOKEN, FakeBotApi
from tests.conftest import Factory


async def test_demo_creates_a_poll_mode_telegram_channel_once(
    factory: Factory, services: Services, bot: FakeBotApi
) -> None:
    assert (await ensure_demo(services)).telegram_channel_id is None
    services.settings.demo_telegram_bot_token = SecretStr(BOT_TOKEN)
    services.settings.demo_telegram_api_base_url = bot.base
    info = await ensure_demo(services)
    assert info.telegram_channel_id and info.telegram_mode == "poll"  # public URL is http
    assert bot.called("deleteWebhook") == [{"drop_pending_updates": False}]
    again = await ensure_demo(services)
    assert again.telegram_channel_id == info.telegram_channel_id
    assert len(bot.called("deleteWebhook")) == 1
    # the channel is in the demo workspace, in poll mode
    login = await factory.login(info.admin_email, info.admin_password)
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    r = await factory.client.get(f"/api/v1/channels/{info.telegram_channel_id}", headers=headers)
    assert r.status_code == 200 and r.json()["config"]["mode"] == "poll"


async def test_a_bad_demo_token_leaves_the_rest_of_the_demo_working(
    services: Services, bot: FakeBotApi
) -> None:
    services.settings.demo_telegram_bot_token = SecretStr("not-a-token")
    info = await ensure_demo(services)
    assert info.telegram_channel_id is None and info.api_channel_id
    # a token Telegram refuses: the channel is kept (fix the token later), the demo works
    services.settings.demo_telegram_bot_token = SecretStr(BOT_TOKEN.replace("1", "2"))
    services.settings.demo_telegram_api_base_url = bot.base
    info = await ensure_demo(services)
    assert info.telegram_channel_id is not None and info.api_channel_id
    assert bot.called("deleteWebhook") == []  # the fake refused the unknown token with 401
