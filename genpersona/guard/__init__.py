"""Guardrails: deterministic validators returning typed violations, repair and re-ask."""
