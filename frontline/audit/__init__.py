"""The audit log: who changed a workspace's settings, team, keys and channels, and what the
platform superadmin did to tenants."""
