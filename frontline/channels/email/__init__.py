"""E-mail channel: inbound JSON webhook (from any mail provider's inbound parse), SMTP out."""
