"""Domain-free building blocks: database, crypto, time, pagination, i18n, logging, metrics.

Nothing in ``frontline.kit`` may import a domain package (checked by import-linter).
"""
