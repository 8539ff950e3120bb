"""Byte scanning for the erasure tests: every encoding a store under the home uses."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def id_needles(customer_id: str) -> dict[str, bytes]:
    """The customer id as SQLite/JSON (utf-8), UTF-16 (SQLite UTF-16 databases, Windows tools),
    numpy's '<U' arrays in the recommender's .npz (UTF-32-LE), Chroma's metadata cells
    (the key immediately followed by the value) and, for numeric ids, packed integers."""
    out = {
        "utf-8": customer_id.encode(),
        "utf-16-le": customer_id.encode("utf-16-le"),
        "utf-16-be": customer_id.encode("utf-16-be"),
        "utf-32-le": customer_id.encode("utf-32-le"),
        "chroma key+value": b"customer_id" + customer_id.encode(),
    }
    if customer_id.isdigit():
        n = int(customer_id)
        out |= {
            "int64-le": struct.pack("<q", n),
            "int64-be": struct.pack(">q", n),
            "int32-be (sqlite record)": struct.pack(">i", n),
        }
    return out


def text_needles(text: str) -> dict[str, bytes]:
    return {
        "utf-8": text.encode(),
        "utf-16-le": text.encode("utf-16-le"),
        "utf-32-le": text.encode("utf-32-le"),
    }


def vector_needles(vector: np.ndarray) -> dict[str, bytes]:
    """The raw float32 vector and the unit-length forms an HNSW cosine index stores."""
    v = np.asarray(vector, dtype=np.float32)
    v64 = v.astype(np.float64)
    return {
        "float32": v.tobytes(),
        "unit (f64 norm)": (v64 / np.linalg.norm(v64)).astype(np.float32).tobytes(),
        "unit (f32 norm)": (v / np.linalg.norm(v)).astype(np.float32).tobytes(),
    }


def files_with(root: Path, needles: dict[str, bytes]) -> list[tuple[str, str]]:
    """(file relative to root, needle name) for every needle found in every file."""
    hits = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        hits.extend((str(path.relative_to(root)), name) for name, n in needles.items() if n in data)
    return hits


@dataclass(frozen=True)
class HnswSegment:
    """One hnswlib persisted index directory (header.bin, data_level0.bin, length.bin)."""

    path: Path

    def header(self) -> tuple[int, int, int]:
        """(max elements, element count, bytes per level-0 element), as hnswlib's
        ``persistHeader`` writes them: int version, then size_t offsetLevel0, max_elements,
        cur_element_count, size_data_per_element."""
        _, _, max_elements, count, size = struct.unpack_from(
            "<iQQQQ", (self.path / "header.bin").read_bytes()
        )
        return max_elements, count, size

    def tail_bytes(self) -> set[int]:
        """The distinct byte values in the unused element slots of data_level0.bin and
        length.bin (past the element count): uninitialised memory, if any was written."""
        _, count, size = self.header()
        level0 = (self.path / "data_level0.bin").read_bytes()[count * size :]
        lengths = (self.path / "length.bin").read_bytes()[count * 4 :]
        return set(level0) | set(lengths)

    def tail_size(self) -> int:
        _, count, size = self.header()
        level0 = (self.path / "data_level0.bin").stat().st_size - count * size
        return level0 + (self.path / "length.bin").stat().st_size - count * 4


def hnsw_segments(chroma_dir: Path, *, exclude: set[str] | frozenset[str] = frozenset()):
    """Every HNSW segment directory under a Chroma directory (names in ``exclude`` skipped)."""
    return [
        HnswSegment(p.parent)
        for p in sorted(chroma_dir.glob("*/header.bin"))
        if p.parent.name not in exclude
    ]
