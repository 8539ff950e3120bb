"""UCI Online Retail -> the recommender's plain frames (purchases, items).

The eval and tests use this directly so the recommender can be measured without
the relational tables. Cleaning rules (also what ``Recommender.fit`` assumes):
- products have stock codes of five digits plus an optional letter suffix
  (``85123A``); POST, DOT, M, BANK CHARGES, C2, AMAZONFEE, PADS, D, CRUK, S, B,
  gift vouchers and DCGS* codes are fees, postage or adjustments, not products;
- codes are upper-cased (``47566b`` and ``47566B`` are one product);
- cancellations (``C`` invoices), returns (quantity <= 0) and zero-price rows are
  not purchases;
- an item's description is its most frequent clean upper-case text among priced
  rows (warehouse notes like "damaged" or "?" appear only on zero-price rows).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from genpersona.data.catalog import PRODUCT_CODE
from genpersona.errors import IngestError

_SPACES = re.compile(r"\s+")
RETAIL_COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)


def clean_description(text: object) -> str:
    """Collapse whitespace and upper-case; empty string for missing text."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return _SPACES.sub(" ", str(text)).strip().upper()


def load_online_retail(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the parquet and return (purchases, items) in the recommender's schema."""
    if not Path(path).exists():
        raise IngestError(
            f"online retail file {path} does not exist",
            fix="point --data at ../shared/data/online_retail.parquet (see shared/data/README.md)",
            path=str(path),
        )
    raw = pd.read_parquet(path)
    missing = [c for c in RETAIL_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(
            f"{path} lacks column(s) {', '.join(missing)}",
            fix="use the UCI Online Retail parquet with its original column names",
            path=str(path),
            missing=missing,
        )
    return retail_frames(raw)


def retail_frames(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    codes = raw["StockCode"].astype(str).str.strip().str.upper()
    is_product = codes.str.match(PRODUCT_CODE.pattern)
    sale = (
        is_product
        & ~raw["InvoiceNo"].astype(str).str.upper().str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
    )
    rows = raw[sale].assign(stock_code=codes[sale])
    desc = rows["Description"].map(clean_description)
    described = rows.assign(description=desc)[desc != ""]
    top_desc = (
        described.groupby(["stock_code", "description"]).size().reset_index(name="n")
        .sort_values(["stock_code", "n", "description"], ascending=[True, False, True])
        .drop_duplicates("stock_code").set_index("stock_code")["description"]
    )  # fmt: skip
    price = rows.groupby("stock_code")["UnitPrice"].median()
    items = pd.DataFrame({"stock_code": price.index.to_numpy()})
    items["description"] = top_desc.reindex(items["stock_code"]).fillna("").to_numpy()
    items["price"] = price.to_numpy().round(2)
    items["theme"] = None
    cid = rows["CustomerID"]
    purchases = pd.DataFrame(
        {
            "customer_id": np.where(cid.notna(), cid.fillna(-1).astype(np.int64).astype(str), None),
            "stock_code": rows["stock_code"].to_numpy(),
            "ts": rows["InvoiceDate"].to_numpy(),
            "quantity": rows["Quantity"].astype(np.int64).to_numpy(),
            "country": rows["Country"].astype(str).to_numpy(),
            "basket_id": rows["InvoiceNo"].astype(str).to_numpy(),
        }
    )
    return purchases.reset_index(drop=True), items
