"""Purchase events -> compact per-customer histories and sparse buyer x item matrices.

The recommender works on plain frames, not on the relational tables, so whoever
owns the tables can call it with a query result. Everything here is validated
once at fit time; afterwards a customer's history is two slices of flat arrays,
which is what keeps ``recommend`` in the sub-millisecond range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from genpersona.errors import RecsInputError
from genpersona.recs.models import ITEM_COLUMNS, PURCHASE_COLUMNS

SECONDS_PER_DAY = 86_400.0


def to_days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Timestamps -> float days since the epoch (timezone dropped), so ages are subtractions."""
    ts = pd.to_datetime(pd.Series(values), errors="raise")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts.to_numpy(dtype="datetime64[ns]").astype(np.int64) / (SECONDS_PER_DAY * 1e9)


def day_of(when: pd.Timestamp | object) -> float:
    """One timestamp -> float days since the epoch (cheap: called on every request)."""
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.value / (SECONDS_PER_DAY * 1e9)


def normalize_code(codes: pd.Series) -> pd.Series:
    """Stock codes compare case-insensitively ('47566b' and '47566B' are one product)."""
    return codes.astype(str).str.strip().str.upper()


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise RecsInputError(
            f"{what} must be a pandas DataFrame, got {type(frame).__name__}",
            fix=f"pass a DataFrame with columns {', '.join(columns)}",
            what=what,
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RecsInputError(
            f"{what} frame lacks column(s) {', '.join(missing)}",
            fix=f"rename or add the columns so the frame has {', '.join(columns)}",
            what=what,
            missing=missing,
            present=list(frame.columns),
        )


def validate_items(items: pd.DataFrame) -> pd.DataFrame:
    """Normalized catalog: one row per stock code, in the caller's order."""
    _require(items, ITEM_COLUMNS, "items")
    out = items.loc[:, list(ITEM_COLUMNS)].copy()
    out["stock_code"] = normalize_code(out["stock_code"])
    dup = out["stock_code"][out["stock_code"].duplicated()]
    if len(dup):
        raise RecsInputError(
            f"items frame repeats stock code(s) {', '.join(dup.unique()[:5])}",
            fix="deduplicate the catalog so each stock_code appears once",
            duplicates=list(dup.unique()[:20]),
        )
    if out.empty:
        raise RecsInputError("items frame is empty", fix="pass the product catalog")
    return out.reset_index(drop=True)


def validate_purchases(purchases: pd.DataFrame, item_codes: pd.Series) -> pd.DataFrame:
    """Keep real purchases of catalog items; guests (customer_id None) stay for popularity.

    Returns (quantity <= 0) are dropped rather than netted: a return still shows
    interest in the kind of item, and netting needs invoice links we do not have.
    """
    _require(purchases, PURCHASE_COLUMNS, "purchases")
    cols = list(PURCHASE_COLUMNS) + (["basket_id"] if "basket_id" in purchases.columns else [])
    out = purchases.loc[:, cols].copy()
    try:
        out["ts"] = pd.to_datetime(out["ts"], errors="raise")
        out["quantity"] = pd.to_numeric(out["quantity"], errors="raise")
    except (ValueError, TypeError) as exc:
        raise RecsInputError(
            f"purchases frame has a bad ts or quantity value: {exc}",
            fix="make ts a datetime column and quantity an integer column",
        ) from exc
    out = out[out["quantity"] > 0]
    out["stock_code"] = normalize_code(out["stock_code"])
    code_index = pd.Index(item_codes)
    out["item"] = code_index.get_indexer(out["stock_code"])
    out = out[out["item"] >= 0]
    cid = out["customer_id"]
    if pd.api.types.is_numeric_dtype(cid):
        # UCI-style float ids (17850.0) must match the string ids callers look up ("17850").
        cid = cid.map(
            lambda v: None if pd.isna(v) else str(int(v)) if float(v).is_integer() else str(v)
        )
    known = cid.notna() & (cid.astype(str).str.strip() != "")
    out["customer_id"] = cid.where(~known, cid.astype(str).str.strip()).where(known, None)
    out["country"] = out["country"].fillna("").astype(str).str.strip()
    out["day"] = to_days(out["ts"])
    if "basket_id" not in out.columns:
        # No order ids: one customer's purchases at one timestamp are one basket.
        out["basket_id"] = (
            out["customer_id"].fillna("guest").astype(str) + "@" + out["ts"].astype(str)
        )
    return out.reset_index(drop=True)


@dataclass
class History:
    """Per-customer item lists in CSR layout: row r's items are indices[indptr[r]:indptr[r+1]]."""

    customer_ids: np.ndarray  # (n_customers,) str
    countries: np.ndarray  # (n_customers,) str, the customer's most frequent country
    indptr: np.ndarray  # (n_customers + 1,) int64
    indices: np.ndarray  # item index, int32
    n_days: np.ndarray  # distinct purchase days of the item by the customer, float32
    last_day: np.ndarray  # last purchase day of the item by the customer, float64

    def __post_init__(self) -> None:
        self._row = {cid: i for i, cid in enumerate(self.customer_ids.tolist())}

    def row_of(self, customer_id: str | None) -> int | None:
        return None if customer_id is None else self._row.get(str(customer_id))

    def slice(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = self.indptr[row], self.indptr[row + 1]
        return self.indices[lo:hi], self.n_days[lo:hi], self.last_day[lo:hi]

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "hist_customer_ids": self.customer_ids.astype(str),
            "hist_countries": self.countries.astype(str),
            "hist_indptr": self.indptr,
            "hist_indices": self.indices,
            "hist_n_days": self.n_days,
            "hist_last_day": self.last_day,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> History:
        return cls(
            customer_ids=arrays["hist_customer_ids"],
            countries=arrays["hist_countries"],
            indptr=arrays["hist_indptr"],
            indices=arrays["hist_indices"],
            n_days=arrays["hist_n_days"],
            last_day=arrays["hist_last_day"],
        )


def build_history(purchases: pd.DataFrame) -> History:
    """Collapse validated purchases into one (customer, item) entry with frequency and recency."""
    known = purchases[purchases["customer_id"].notna()]
    if known.empty:
        empty = np.array([], dtype=str)
        return History(
            empty, empty, np.zeros(1, np.int64), np.array([], np.int32),
            np.array([], np.float32), np.array([], np.float64),
        )  # fmt: skip
    per_day = known.assign(dayn=np.floor(known["day"])).drop_duplicates(
        ["customer_id", "item", "dayn"]
    )
    grouped = (
        per_day.groupby(["customer_id", "item"], sort=True)
        .agg(n_days=("dayn", "size"), last_day=("day", "max"))
        .reset_index()
    )
    customer_ids = grouped["customer_id"].drop_duplicates().to_numpy(dtype=str)
    counts = grouped.groupby("customer_id", sort=True).size().to_numpy()
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    countries = (
        known.groupby(["customer_id", "country"]).size().reset_index(name="n")
        .sort_values(["customer_id", "n", "country"], ascending=[True, False, True])
        .drop_duplicates("customer_id").set_index("customer_id")["country"]
    )  # fmt: skip
    return History(
        customer_ids=customer_ids,
        countries=countries.reindex(customer_ids).fillna("").to_numpy(dtype=str),
        indptr=indptr,
        indices=grouped["item"].to_numpy(np.int32),
        n_days=grouped["n_days"].to_numpy(np.float32),
        last_day=grouped["last_day"].to_numpy(np.float64),
    )


def buyer_item_matrix(
    purchases: pd.DataFrame,
    n_items: int,
    level: str,
    *,
    now_day: float | None = None,
    half_life_days: float | None = None,
) -> sparse.csr_matrix:
    """Buyers x items: a buyer is a customer (guests: their basket) or a basket.

    Entries are 1, or with ``half_life_days`` 0.5 ** (age of the buyer's latest
    purchase of the item / half-life), so co-purchase reflects the current range.
    """
    if level == "basket":
        keys = purchases["basket_id"].astype(str)
    else:
        keys = purchases["customer_id"].where(
            purchases["customer_id"].notna(), "basket:" + purchases["basket_id"].astype(str)
        )
    rows, _ = pd.factorize(keys, sort=True)
    n_rows = int(rows.max()) + 1 if len(rows) else 0
    frame = pd.DataFrame(
        {"row": rows, "item": purchases["item"].to_numpy(), "day": purchases["day"].to_numpy()}
    )
    latest = frame.groupby(["row", "item"], sort=True)["day"].max().reset_index()
    if half_life_days is None or now_day is None:
        values = np.ones(len(latest), np.float32)
    else:
        age = np.maximum(now_day - latest["day"].to_numpy(), 0.0)
        values = (0.5 ** (age / half_life_days)).astype(np.float32)
    return sparse.csr_matrix(
        (values, (latest["row"].to_numpy(), latest["item"].to_numpy())), shape=(n_rows, n_items)
    )
