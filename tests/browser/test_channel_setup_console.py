"""Issues 13/14: an owner sets up the messenger and mailbox side in Chromium, no curl - the
operator alerts in Telegram (token write-only, a test alert that shows Telegram's refusal
in its own words, switched off and on), a member's Telegram id on the team page, a
Telegram channel whose refused token shows under its field, and each channel's delivery
health (Telegram's webhook report; a mailbox's IMAP state after "check mail now", against
the private dovecot). In English and in Russian."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.botkit import ThreadedBot
from tests.browser.conftest import Server
from tests.channels.mailservers import PASSWORD, Dovecot, dovecot_server
from tests.channels.telegram.fakebot import ALERT_BOT_TOKEN, BOT_TOKEN
from tests.channels.test_mailbox import plain_mail

__all__ = ["dovecot_server"]  # fixtures used by name

STAFF_CHAT = "-1009876543210"


@pytest.fixture(scope="module")
def alert_bot() -> Iterator[ThreadedBot]:
    bot = ThreadedBot(ALERT_BOT_TOKEN)
    yield bot
    bot.close()


@pytest.fixture(scope="module")
def channel_bot() -> Iterator[ThreadedBot]:
    bot = ThreadedBot(BOT_TOKEN)
    yield bot
    bot.close()


def test_operator_alerts_in_telegram(owner: Page, server: Server, alert_bot: ThreadedBot) -> None:
    page = owner
    assert alert_bot.api is not None
    page.goto(f"{server.base}/console/settings/channels?lang=en")
    box = page.get_by_test_id("telegram-alerts")
    expect(box.locator("h2")).to_have_text("Operator alerts in Telegram")
    expect(page.get_by_test_id("alerts-state")).to_have_text("Not set up")
    expect(page.get_by_test_id("alerts-test")).to_be_disabled()
    f = page.get_by_test_id("form-alerts")
    # a malformed chat id is refused under its field, nothing saved
    f.get_by_test_id("field-bot_token").fill(ALERT_BOT_TOKEN)
    f.get_by_test_id("field-chat_id").fill("staff chat")
    f.get_by_test_id("field-api_base_url").fill(alert_bot.api.base)
    page.get_by_test_id("alerts-save").click()
    expect(f.get_by_test_id("error-chat_id")).to_contain_text("chat_id")
    expect(page.get_by_test_id("alerts-state")).to_have_text("Not set up")

    f.get_by_test_id("field-chat_id").fill(STAFF_CHAT)
    page.get_by_test_id("alerts-save").click()
    expect(page.get_by_test_id("alerts-saved")).to_be_visible()
    expect(page.get_by_test_id("alerts-state")).to_have_text(f"On: chat {STAFF_CHAT}")
    # the token is never echoed back
    token = page.get_by_test_id("form-alerts").get_by_test_id("field-bot_token")
    expect(token).to_have_value("")
    expect(token).to_have_attribute("placeholder", "Stored — leave empty to keep it")
    assert ALERT_BOT_TOKEN not in page.content()

    page.get_by_test_id("alerts-test").click()
    result = page.get_by_test_id("alerts-test-result")
    expect(result).to_have_text(f"The test alert was sent to chat {STAFF_CHAT}.")
    sent = alert_bot.call(lambda: alert_bot.api.called("sendMessage"))  # type: ignore[union-attr]
    assert [m["chat_id"] for m in sent] == [STAFF_CHAT]

    # Telegram's refusal, in its own words
    alert_bot.call(alert_bot.api.fail, "sendMessage", 400, "Bad Request: chat not found")
    page.get_by_test_id("alerts-test").click()
    expect(result).to_contain_text("Telegram refused")
    expect(result).to_contain_text("Bad Request: chat not found")
    expect(result).to_have_class("health bad")

    # switched off: the settings stay
    page.get_by_test_id("form-alerts").get_by_test_id("field-enabled").uncheck()
    page.get_by_test_id("alerts-save").click()
    expect(page.get_by_test_id("alerts-state")).to_have_text("Off (settings kept)")
    page.reload()
    expect(page.get_by_test_id("alerts-state")).to_have_text("Off (settings kept)")
    expect(page.get_by_test_id("form-alerts").get_by_test_id("field-chat_id")).to_have_value(
        STAFF_CHAT
    )
    page.goto(f"{server.base}/console/settings/channels?lang=ru")
    expect(page.get_by_test_id("telegram-alerts").locator("h2")).to_have_text(
        "Оповещения операторов в Telegram"
    )
    expect(page.get_by_test_id("alerts-state")).to_have_text("Выключены (настройки сохранены)")
    expect(page.get_by_test_id("alerts-test")).to_have_text("Отправить тестовое оповещение")


def test_a_member_links_their_telegram_account(owner: Page, server: Server) -> None:
    page = owner
    page.goto(f"{server.base}/console/settings/team?lang=en")
    row = page.locator(f'[data-testid="member-row"][data-email="{server.info["operator_email"]}"]')
    row.get_by_test_id("member-telegram").fill("not a number")
    row.get_by_test_id("member-telegram-save").click()
    expect(page.get_by_test_id("team-error")).to_have_text(
        "A Telegram user id is a positive whole number."
    )
    row.get_by_test_id("member-telegram").fill("70001")
    row.get_by_test_id("member-telegram-save").click()
    expect(row.get_by_test_id("member-telegram-saved")).to_have_text("Telegram linked.")
    page.goto(f"{server.base}/console/settings/team?lang=ru")
    row = page.locator(f'[data-testid="member-row"][data-email="{server.info["operator_email"]}"]')
    expect(row.get_by_test_id("member-telegram")).to_have_value("70001")
    expect(page.get_by_test_id("team-list").locator("th").nth(3)).to_have_text("Telegram id")
    row.get_by_test_id("member-telegram").fill("")
    row.get_by_test_id("member-telegram-save").click()
    expect(row.get_by_test_id("member-telegram-saved")).to_have_text("Telegram отвязан.")


def test_a_telegram_channel_shows_field_errors_and_its_webhook_health(
    owner: Page, server: Server, channel_bot: ThreadedBot
) -> None:
    page = owner
    assert channel_bot.api is not None
    page.goto(f"{server.base}/console/settings/channels?lang=en")
    f = page.get_by_test_id("form-channel")
    f.get_by_test_id("field-type").select_option("telegram")
    name = f"Bot {uuid.uuid4().hex[:6]}"
    f.get_by_test_id("field-name").fill(name)
    f.get_by_test_id("field-bot_token").fill("not-a-token")
    f.get_by_test_id("field-api_base_url").fill(channel_bot.api.base)
    f.get_by_test_id("field-chat_pacing_seconds").fill("99")
    page.get_by_test_id("channel-submit").click()
    expect(f.get_by_test_id("error-bot_token")).to_contain_text("BotFather")
    expect(f.get_by_test_id("error-chat_pacing_seconds")).to_be_visible()
    expect(f.get_by_test_id("error-name")).to_be_hidden()
    expect(page.get_by_test_id("form-error-channel")).to_be_hidden()

    f.get_by_test_id("field-bot_token").fill(BOT_TOKEN)
    f.get_by_test_id("field-chat_pacing_seconds").fill("1")
    page.get_by_test_id("channel-submit").click()
    expect(page.get_by_test_id("channel-secret")).to_be_visible()
    expect(f.get_by_test_id("error-bot_token")).to_be_hidden()
    row = page.get_by_test_id("channel-row").filter(has_text=name)
    expect(row).to_be_visible()
    channel_id = _channel_id(server, name)
    state = page.locator(f'.channel-details[data-channel="{channel_id}"]')
    expect(state.get_by_test_id("telegram-verdict")).to_have_text("Working")
    expect(state.get_by_test_id("telegram-webhook")).to_have_text(
        f"{server.base}/api/v1/webhooks/telegram/{channel_id}"
    )
    expect(state.get_by_test_id("health-failed")).to_have_text("0")
    expect(state.get_by_test_id("health-last-inbound")).to_have_text("none yet")

    # Telegram reports it cannot deliver: the owner sees Telegram's reason
    def broken() -> None:
        assert channel_bot.api is not None
        channel_bot.api.webhook_error = (1_765_000_000, "Wrong response from the webhook: 502")
        channel_bot.api.pending_updates = 3

    channel_bot.call(broken)
    state.get_by_test_id("health-refresh").click()
    expect(state.get_by_test_id("telegram-verdict")).to_have_text("A problem")
    expect(state.get_by_test_id("telegram-last-error")).to_contain_text("502")
    expect(state.get_by_test_id("telegram-pending")).to_have_text("3")
    page.goto(f"{server.base}/console/settings/channels?lang=ru")
    state = page.locator(f'.channel-details[data-channel="{channel_id}"]')
    expect(state.get_by_test_id("telegram-verdict")).to_have_text("Есть проблема")
    expect(state.get_by_test_id("health-last-inbound")).to_have_text("ещё не было")


def _channel_id(server: Server, name: str) -> str:
    rows = server.api("GET", "/channels", server.token("admin")).json()
    [found] = [c["id"] for c in rows if c["name"] == name]
    return str(found)


def test_a_mailbox_channel_shows_its_imap_health(
    owner: Page, server: Server, dovecot_server: Dovecot
) -> None:
    page = owner
    user = dovecot_server.add_user()
    name = f"Mailbox {uuid.uuid4().hex[:6]}"
    config = {
        "from_address": "support@tours.example.com",
        "imap_host": "127.0.0.1",
        "imap_port": dovecot_server.port,
        "imap_security": "none",
        "imap_username": user,
        "imap_password": PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
    }
    r = server.api(
        "POST",
        "/channels",
        server.token("admin"),
        json={"type": "mailbox", "name": name, "config": config},
    )
    assert r.status_code == 201, r.text
    channel_id = r.json()["id"]
    dovecot_server.append(user, plain_mail("Есть ли места на субботу?")[0])
    page.goto(f"{server.base}/console/settings/channels?lang=en")
    state = page.locator(f'.channel-details[data-channel="{channel_id}"]')
    imap = state.get_by_test_id("health-imap")
    expect(imap.get_by_test_id("imap-verdict")).to_be_visible()
    imap.get_by_test_id("mailbox-poll").click()
    expect(imap).to_contain_text("Check started.")
    # the worker polls; the owner refreshes until the check shows
    for _ in range(60):
        state.get_by_test_id("health-refresh").click()
        verdict = state.get_by_test_id("imap-verdict")
        expect(verdict).to_be_visible()
        if verdict.inner_text() != "Not checked yet":
            break
        page.wait_for_timeout(500)
    expect(state.get_by_test_id("imap-verdict")).to_have_text("Working")
    expect(state.get_by_test_id("imap-stored")).to_have_text("1")
    expect(state.get_by_test_id("health-last-inbound")).not_to_have_text("none yet")
    page.goto(f"{server.base}/console/settings/channels?lang=ru")
    state = page.locator(f'.channel-details[data-channel="{channel_id}"]')
    expect(state.get_by_test_id("imap-verdict")).to_have_text("Работает")
    expect(state.locator("h3").first).to_have_text("SMTP (ответы)")
