"""The platform superadmin's view: every tenant with its usage, creating and suspending
tenants, and their plan limits."""
