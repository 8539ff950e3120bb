"""genpersona: personalized, on-brand marketing copy from an LLM, reviewed by marketers."""

__version__ = "0.1.0"
