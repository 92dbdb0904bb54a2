"""AI settings per tenant (provider chain with encrypted keys, behaviour flags) and the AI
log (every LLM call, for audit), with its retention."""
