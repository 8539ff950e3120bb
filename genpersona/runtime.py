"""Process-wide runtime defaults that must be in place before the model libraries load.

Both model runtimes use OpenMP: torch (the MiniLM embedder) and llama.cpp (the
local LLM, via xllamacpp). libgomp's default keeps idle worker threads spinning
for ~300,000 iterations after every parallel region and barrier. On a small
machine (the target is 2 cores) shared with other work, those spinning threads
take the cores everything else needs: measured here under load, the local
model's decode fell to 2-7 tokens/s and the pipeline's own overhead doubled.
Never spinning (``PASSIVE``) fixes that but halves decode on a quiet machine,
because llama.cpp synchronises its threads many times per token. A short spin
(``GOMP_SPINCOUNT=1000``) kept quiet-machine decode at the spinning speed
(~60 tokens/s) and stayed close to ``PASSIVE`` under load (26 vs 30 tokens/s,
against 7 for the default). libgomp reads these once, when it is loaded, so
the entry points set them before any model library is imported: the CLI's main
callback, the API server's app factory (``serve_app``) and the Celery worker's
``worker_init``. ``import genpersona`` alone changes nothing, so a process that
embeds the library keeps its own environment. Variables already set always win.
"""

from __future__ import annotations

import os

DEFAULT_OMP_WAIT_POLICY = "PASSIVE"
#: overrides the spin of the policy above (libgomp's documented precedence)
DEFAULT_GOMP_SPINCOUNT = "1000"


def apply_runtime_defaults(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Set defaults the user has not set; returns what was applied (for ``doctor``)."""
    env = os.environ if environ is None else environ
    applied: dict[str, str] = {}
    if env.get("OMP_WAIT_POLICY") or env.get("GOMP_SPINCOUNT"):
        return applied  # the user tuned OpenMP themselves
    for name, value in (
        ("OMP_WAIT_POLICY", DEFAULT_OMP_WAIT_POLICY),
        ("GOMP_SPINCOUNT", DEFAULT_GOMP_SPINCOUNT),
    ):
        env[name] = value
        applied[name] = value
    return applied
