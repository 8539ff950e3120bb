"""Save / load a fitted Recommender as one ``.npz`` of plain arrays (no pickle).

Loading is a memory copy of ~10 MB for the demo catalog, so a serving process
(``context_for``) loads once and never refits. Files are written to a temporary
name and renamed, so a crash mid-save never destroys the previous model.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from genpersona.errors import RecsModelFileError
from genpersona.recs.co_purchase import NeighbourTable
from genpersona.recs.content import ContentModel
from genpersona.recs.interactions import History
from genpersona.recs.models import RecParams
from genpersona.recs.popularity import PopularityTables

FORMAT_VERSION = 1


def write_recommender(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write ``Recommender.to_arrays()`` plus the format version, atomically."""
    arrays = {"format_version": np.array(FORMAT_VERSION), **arrays}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **cast("dict[str, Any]", arrays))
    os.replace(tmp, path)


def read_recommender(path: Path) -> dict[str, Any]:
    """The constructor arguments of the saved ``Recommender`` (it builds itself from them)."""
    if not path.exists():
        raise RecsModelFileError(
            f"recommender file {path} does not exist",
            fix="fit a Recommender and call .save(path) first (e.g. during ingest)",
            path=str(path),
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise RecsModelFileError(
            f"recommender file {path} is unreadable: {exc}",
            fix="delete it and refit; it was not written by Recommender.save",
            path=str(path),
        ) from exc
    version = int(arrays.get("format_version", np.array(-1)))
    if version != FORMAT_VERSION:
        raise RecsModelFileError(
            f"recommender file {path} has format version {version}, expected {FORMAT_VERSION}",
            fix="refit the recommender with this version of genpersona and save it again",
            path=str(path),
            version=version,
        )
    try:
        return dict(
            item_codes=arrays["item_codes"],
            item_descriptions=arrays["item_descriptions"],
            item_prices=arrays["item_prices"],
            item_themes=arrays["item_themes"],
            history=History.from_arrays(arrays),
            neighbours=NeighbourTable.from_arrays(arrays, "cp"),
            content=ContentModel(arrays["item_vectors"]) if "item_vectors" in arrays else None,
            popularity=PopularityTables.from_arrays(arrays),
            params=RecParams.model_validate(json.loads(str(arrays["params_json"]))),
            now=pd.Timestamp(str(arrays["now"])).to_pydatetime(),
            # arrays of the deleted re-ranker ("item_stats", "rr_*") in older files are ignored
        )
    except KeyError as exc:
        raise RecsModelFileError(
            f"recommender file {path} lacks array {exc}",
            fix="delete it and refit; the file is truncated or from another tool",
            path=str(path),
        ) from exc
