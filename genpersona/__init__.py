"""genpersona: personalized, on-brand marketing copy from an LLM, reviewed by marketers."""

from genpersona.runtime import apply_runtime_defaults

# before torch or llama.cpp can be imported: see genpersona/runtime.py
apply_runtime_defaults()

__version__ = "0.1.0"
