"""Process-wide runtime defaults that must be in place before the model libraries load.

Both model runtimes use OpenMP: torch (the MiniLM embedder) and llama.cpp (the
local LLM, via xllamacpp). OpenMP's default wait policy keeps worker threads
spinning after every parallel region. On a small machine (the target is 2
cores) those spinning threads take the cores the rest of the pipeline needs:
measured on this machine under load, the local model's decode fell from 20 to
2 tokens/s and the pipeline's own overhead doubled. A passive policy lets idle
workers sleep at once. libgomp reads the variable only when it is first loaded,
so this runs on ``import genpersona``, before any model library is imported.
An explicit ``OMP_WAIT_POLICY`` in the environment always wins.
"""

from __future__ import annotations

import os

DEFAULT_OMP_WAIT_POLICY = "PASSIVE"


def apply_runtime_defaults(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Set defaults the user has not set; returns what was applied (for ``doctor``)."""
    env = os.environ if environ is None else environ
    applied: dict[str, str] = {}
    if not env.get("OMP_WAIT_POLICY"):
        env["OMP_WAIT_POLICY"] = DEFAULT_OMP_WAIT_POLICY
        applied["OMP_WAIT_POLICY"] = DEFAULT_OMP_WAIT_POLICY
    return applied
