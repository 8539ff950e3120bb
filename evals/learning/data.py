"""The Upworthy Research Archive as replayable tests (dataset of ``evals/learning``).

Tests from 2013-06-25 to 2014-01-10 are dropped, as the archive's maintainers
advise (they may not have been randomized). ``test_week`` is YYYYWW; that window is
weeks 201326..201402. Packages with an empty headline or zero impressions are
dropped; a test needs at least two remaining arms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genpersona.clickmodel.train import UNRANDOMIZED_WEEKS, UPWORTHY_FILE, load_upworthy

DEFAULT_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FILE = UPWORTHY_FILE
DROP_WEEKS = UNRANDOMIZED_WEEKS
SPLIT_WEEK = 201435  # train priors / click model before it (about half the tests), test from it on


def load(data_dir: Path = DEFAULT_PATH) -> pd.DataFrame:
    """The archive as ``learn train`` reads it, keeping tests with at least two arms."""
    path = Path(data_dir) / FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is absent (see shared/data/README.md)")
    d = load_upworthy(Path(data_dir))
    sizes = d.groupby("clickability_test_id").headline.transform("size")
    return d[sizes >= 2].reset_index(drop=True)


@dataclass
class Tests:
    """Padded arrays, one row per test: (B, K) impressions, clicks, mask, headlines."""

    ids: np.ndarray
    week: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    mask: np.ndarray
    headlines: list[list[str]]

    @property
    def ctr(self) -> np.ndarray:
        return np.where(self.mask, self.clicks / np.maximum(self.impressions, 1), 0.0)

    def subset(self, keep: np.ndarray) -> Tests:
        return Tests(
            self.ids[keep],
            self.week[keep],
            self.impressions[keep],
            self.clicks[keep],
            self.mask[keep],
            [h for h, k in zip(self.headlines, keep, strict=True) if k],
        )


def to_tests(d: pd.DataFrame) -> Tests:
    groups = list(d.groupby("clickability_test_id", sort=True))
    k = max(len(g) for _, g in groups)
    b = len(groups)
    imp = np.zeros((b, k))
    clk = np.zeros((b, k))
    mask = np.zeros((b, k), bool)
    week = np.zeros(b, np.int64)
    heads: list[list[str]] = []
    for i, (_, g) in enumerate(groups):
        n = len(g)
        imp[i, :n] = g.impressions.to_numpy()
        clk[i, :n] = g.clicks.to_numpy()
        mask[i, :n] = True
        week[i] = int(g.test_week.iloc[0])
        heads.append(g.headline.tolist())
    ids = np.array([tid for tid, _ in groups])
    return Tests(ids, week, imp, clk, mask, heads)
