"""Analytics: what the AI line and the operators achieved over a date range, computed in
SQL on SQLite and PostgreSQL alike (see :mod:`frontline.analytics.repository`)."""
