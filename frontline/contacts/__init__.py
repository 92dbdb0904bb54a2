"""Contacts: the customers, and their identities on each channel."""
