"""The child side of an embedded Chroma rebuild: ``python -m genpersona.vectors.chroma_rebuild``.

Started by ``ChromaVectorStore.rebuild_many`` through ``clean_child.run_clean_child`` (fresh
process, glibc heap that fills and wipes every block: see that module for why), with a job
on stdin: the Chroma directory and, per collection, the ids to leave behind (computed by
the parent against the relational store) and the metadata keys to keep. The child opens
only Chroma, never the relational store, so nothing personal passes through its memory.
It prints one JSON line: the rebuild reports.
"""

from __future__ import annotations

import json
import sys

from pydantic import BaseModel, Field

from genpersona.vectors.base import RebuildReport
from genpersona.vectors.chroma import ChromaVectorStore


class CollectionJob(BaseModel):
    name: str
    drop: list[str] = Field(default_factory=list)  # opaque vector ids, nothing personal
    metadata_keys: list[str] | None = None


class RebuildJob(BaseModel):
    path: str
    collections: list[CollectionJob]


class RebuildResult(BaseModel):
    reports: list[RebuildReport]


def run(job: RebuildJob) -> RebuildResult:
    store = ChromaVectorStore(path=job.path)
    reports = []
    for spec in job.collections:
        drop = set(spec.drop)
        keys = None if spec.metadata_keys is None else frozenset(spec.metadata_keys)
        reports.append(
            store.rebuild_here(
                spec.name,
                keep=lambda ids, drop=drop: {i for i in ids if i not in drop},  # type: ignore[misc]
                metadata_keys=keys,
            )
        )
    return RebuildResult(reports=reports)


if __name__ == "__main__":
    result = run(RebuildJob.model_validate(json.loads(sys.stdin.read())))
    print(result.model_dump_json())
