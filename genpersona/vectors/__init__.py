"""Vector stores: Chroma (embedded or server by URL) and an in-memory one for tests."""
