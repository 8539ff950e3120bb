"""Relational store: SQLite by default (WAL), PostgreSQL by URL, schema by migrations."""
