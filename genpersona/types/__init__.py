"""Shared boundary types: the bottom layer every package may import.

Nothing here imports the rest of genpersona, so guard, brands, review, agent, api and
campaigns can all speak about drafts and violations without importing each other.
"""
