"""Frontline: an open-source, multi-tenant, AI-first customer-support platform."""

__version__ = "0.1.0"
