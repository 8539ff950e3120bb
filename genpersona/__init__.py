"""genpersona: personalized, on-brand marketing copy from an LLM, reviewed by marketers.

Importing the library changes nothing global: the OpenMP defaults of
``genpersona.runtime`` are applied by the entry points (CLI, API server, Celery worker).
"""

__version__ = "0.1.0"
