"""Tenants (workspaces) and their staff."""
