"""Persistence: the SQLite schema and the records read and written by the service."""
