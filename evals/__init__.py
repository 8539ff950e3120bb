"""Offline evaluation suite: datasets, scorers, runners and reports."""
