"""A rebuild child that stops after copying its first page (the SIGKILL-inside-the-child
test): ``python -m tests.erasure_slow_child``, flag file in GENPERSONA_TEST_SLOW_CHILD_FLAG."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from genpersona.vectors import chroma_rebuild
from genpersona.vectors.chroma import ChromaVectorStore

_pages = ChromaVectorStore._pages


def _slow_pages(col):  # type: ignore[no-untyped-def]
    for page in _pages(col):
        yield page
        Path(os.environ["GENPERSONA_TEST_SLOW_CHILD_FLAG"]).write_text(str(os.getpid()))
        time.sleep(600)  # killed here: the parent died, PR_SET_PDEATHSIG kills this child


ChromaVectorStore._pages = staticmethod(_slow_pages)  # type: ignore[method-assign,assignment]

if __name__ == "__main__":
    job = chroma_rebuild.RebuildJob.model_validate(json.loads(sys.stdin.read()))
    print(chroma_rebuild.run(job).model_dump_json())
