"""Ticket metadata of conversations: categories (per tenant)."""
