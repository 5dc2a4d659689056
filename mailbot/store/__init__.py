"""Persistence: one schema on SQLite or PostgreSQL (``db``, ``dialect``), the SQL of each table in
its own module, and the files beside the database (attachments, the data directory)."""
