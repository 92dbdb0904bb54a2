"""Avito Messenger channel."""
