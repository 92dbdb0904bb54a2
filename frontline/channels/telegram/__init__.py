"""The Telegram bot channel: Bot API client, adapter, webhook, long polling, operator alerts."""
