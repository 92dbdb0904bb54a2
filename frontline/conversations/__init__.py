"""Conversations: one per customer thread on a channel; each one is also a ticket."""
