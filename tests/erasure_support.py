"""Byte scanning for the erasure tests: every encoding a store under the home uses."""

from __future__ import annotations

import struct
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
