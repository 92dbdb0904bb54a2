"""Staff authentication (password login, JWT, rotating refresh tokens, API keys) and roles."""
