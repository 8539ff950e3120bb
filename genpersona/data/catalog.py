"""The product catalog: cleaned descriptions, a typical price, and item vectors.

Descriptions in the UCI data are upper case with stray punctuation and several
spellings per stock code; the catalog keeps the most frequent sold spelling in
sentence case so copywriters (and the LLM) read "White hanging heart t-light
holder", not "WHITE HANGING HEART T-LIGHT HOLDER ". Postage, fees and manual
adjustments are kept as non-products so they never get recommended.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from genpersona.data.repo import item_vector_id
from genpersona.data.tables import Brand, CatalogItem, ItemTheme, Theme
from genpersona.data.themes import LABELS, OTHER_RULE, TAXONOMY
from genpersona.embeddings.base import Embedder
from genpersona.vectors.base import CATALOG, VectorStore

#: stock codes of the UCI data that are charges or adjustments, not goods
NON_PRODUCT_CODES = frozenset(
    {"POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "B"}
)
_NON_PRODUCT_PREFIXES = ("gift_", "DCGS")
#: a UCI product: five digits plus an optional letter suffix (``85123A``)
PRODUCT_CODE = re.compile(r"^\d{5}[A-Z]{0,2}$")
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s.,;:*+-]+$")
# keep common abbreviations readable after sentence-casing
_UPPER_WORDS = {"uk", "usa", "led", "abc", "diy", "xmas", "dvd", "cd"}


def is_uci_product_code(code: str) -> bool:
    """Stricter than ``is_product_code``: the UCI shape, which the recommender's cleaning uses."""
    return bool(PRODUCT_CODE.match(str(code).strip().upper()))


def clean_description(raw: object) -> str:
    """Sentence case, single spaces, no trailing punctuation; '' for blanks and 'nan'."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return ""
    text = _TRAILING.sub("", _SPACES.sub(" ", str(raw)).strip())
    if not text or text.lower() == "nan":
        return ""
    words = text.lower().split(" ")
    words = [w.upper() if w in _UPPER_WORDS else w for w in words]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def is_product_code(code: str) -> bool:
    return code not in NON_PRODUCT_CODES and not code.startswith(_NON_PRODUCT_PREFIXES)


def build_catalog(sales: pd.DataFrame, product_rule=is_product_code) -> pd.DataFrame:
    """One row per stock code from transaction lines.

    ``sales`` needs stock_code, description, unit_price, quantity, order_id,
    customer (external id or NA). Price is the median positive unit price of
    sold lines, which ignores the £0 giveaways and the odd £-11k adjustment.
    """
    sold = sales[(sales["quantity"] > 0) & (sales["unit_price"] > 0)]
    # clean each distinct description once: a retailer's file repeats a few thousand
    # descriptions over millions of lines
    which, uniques = pd.factorize(sales["description"])
    cleaned = np.array([clean_description(u) for u in uniques] + [""], dtype=object)
    desc = sales.assign(clean=cleaned[which], pos=np.arange(len(sales)))
    desc = desc[desc["clean"] != ""]
    # most frequent clean spelling per code, ties broken alphabetically (reproducible)
    counts = desc.groupby(["stock_code", "clean"]).size().reset_index(name="n")
    counts = counts.sort_values(["stock_code", "n", "clean"], ascending=[True, False, True])
    best = counts.drop_duplicates("stock_code").set_index("stock_code")["clean"]
    # most frequent raw spelling per code, ties to the one seen first
    raws = (
        desc.assign(raw=desc["description"].astype(str).str.strip())
        .groupby(["stock_code", "raw"])["pos"]
        .agg(["size", "min"])
        .reset_index()
        .sort_values(["stock_code", "size", "min"], ascending=[True, False, True])
    )
    raw = raws.drop_duplicates("stock_code").set_index("stock_code")["raw"]
    price = sold.groupby("stock_code")["unit_price"].median()
    n_orders = sold.groupby("stock_code")["order_id"].nunique()
    n_customers = sold.dropna(subset=["customer"]).groupby("stock_code")["customer"].nunique()
    codes = sorted(set(sales["stock_code"].unique()))
    cat = pd.DataFrame({"stock_code": codes})
    cat["description"] = cat["stock_code"].map(best).fillna("")
    cat.loc[cat["description"] == "", "description"] = "Item " + cat["stock_code"]
    cat["raw_description"] = cat["stock_code"].map(raw)
    cat["price"] = cat["stock_code"].map(price).round(2)
    cat["n_orders"] = cat["stock_code"].map(n_orders).fillna(0).astype(int)
    cat["n_customers"] = cat["stock_code"].map(n_customers).fillna(0).astype(int)
    cat["is_product"] = cat["stock_code"].map(product_rule) & cat["price"].notna()
    return cat


def load_items(session: Session, brand: Brand, *, products_only: bool = True) -> pd.DataFrame:
    """The catalog as a frame: stock_code, description, price, theme (the recommender's input)."""
    stmt = select(
        CatalogItem.stock_code,
        CatalogItem.description,
        CatalogItem.price,
        CatalogItem.theme,
        CatalogItem.is_product,
    ).where(CatalogItem.brand_id == brand.id)
    rows = session.execute(stmt.order_by(CatalogItem.stock_code)).all()
    frame = pd.DataFrame(
        rows, columns=["stock_code", "description", "price", "theme", "is_product"]
    )
    if products_only:
        frame = frame[frame["is_product"]].reset_index(drop=True)
    return frame.drop(columns=["is_product"])


def load_item_vectors(
    brand: Brand, stock_codes: list[str], store: VectorStore
) -> np.ndarray | None:
    """Item vectors in the order of ``stock_codes``; None when any item was never embedded."""
    ids = [item_vector_id(brand.slug, c) for c in stock_codes]
    fetched = store.get(CATALOG, ids)
    if len(fetched.ids) != len(ids):
        return None
    return np.asarray(fetched.vectors, dtype=np.float32)


def old_descriptions(session: Session, brand_id: int | None) -> dict[str, str]:
    if brand_id is None:
        return {}
    rows = session.execute(
        select(CatalogItem.stock_code, CatalogItem.description).where(
            CatalogItem.brand_id == brand_id
        )
    ).all()
    return {r.stock_code: r.description for r in rows}


def catalog_vectors(
    brand_slug: str,
    catalog: pd.DataFrame,
    previous: dict[str, str],
    embedder: Embedder,
    store: VectorStore,
    *,
    progress=None,
) -> np.ndarray:
    """Vectors for every catalog row, reusing stored ones whose description did not change.

    A re-run of the same ingest then embeds nothing, which keeps re-ingest fast
    with the real model (about 20 s for the 4k UCI descriptions otherwise).
    """
    codes = catalog["stock_code"].tolist()
    descs = catalog["description"].tolist()
    out = np.zeros((len(codes), embedder.dim), np.float32)
    unchanged = [i for i, c in enumerate(codes) if previous.get(c) == descs[i]]
    if unchanged:
        fetched = store.get(CATALOG, [item_vector_id(brand_slug, codes[i]) for i in unchanged])
        if fetched.vectors.ndim == 2 and fetched.vectors.shape[1] == embedder.dim:
            by_id = dict(zip(fetched.ids, fetched.vectors, strict=True))
            for i in unchanged:
                vec = by_id.get(item_vector_id(brand_slug, codes[i]))
                if vec is not None:
                    out[i] = vec
    todo = [i for i in range(len(codes)) if not out[i].any()]
    for start in range(0, len(todo), 256):
        chunk = todo[start : start + 256]
        out[chunk] = embedder.embed([descs[i] for i in chunk])
        if progress is not None:
            progress(min(start + 256, len(todo)), len(todo))
    return out


def write_catalog(session: Session, brand: Brand, catalog: pd.DataFrame, assignment) -> int:
    """Replace the brand's catalog, themes and item-theme links (inside the caller's transaction)."""

    item_ids = select(CatalogItem.id).where(CatalogItem.brand_id == brand.id)
    session.execute(delete(ItemTheme).where(ItemTheme.item_id.in_(item_ids)))
    session.execute(delete(Theme).where(Theme.brand_id == brand.id))
    session.execute(delete(CatalogItem).where(CatalogItem.brand_id == brand.id))
    if catalog.empty:
        return 0
    rows = [
        {
            "brand_id": brand.id,
            "stock_code": r["stock_code"],
            "description": r["description"][:300],
            "raw_description": (r.get("raw_description") or None),
            "price": None if pd.isna(r["price"]) else float(r["price"]),
            "theme": assignment.primary.get(r["stock_code"]) if r["is_product"] else None,
            "n_orders": int(r["n_orders"]),
            "n_customers": int(r["n_customers"]),
            "is_product": bool(r["is_product"]),
        }
        for r in catalog.to_dict("records")
    ]
    ids = session.execute(
        insert(CatalogItem).returning(CatalogItem.id, sort_by_parameter_order=True), rows
    ).scalars()
    id_of = dict(zip(catalog["stock_code"], ids, strict=True))
    members = assignment.memberships
    counts = members[members["score"] > 0].groupby("theme")["stock_code"].nunique()
    theme_rows = [
        {
            "brand_id": brand.id,
            "slug": rule.slug,
            "label": LABELS[rule.slug],
            "method": "keyword+embedding" if rule.keywords else "default",
            "keywords": list(rule.keywords),
            "n_items": int(counts.get(rule.slug, 0)),
        }
        for rule in (*TAXONOMY, OTHER_RULE)
    ]
    theme_ids = session.execute(
        insert(Theme).returning(Theme.id, sort_by_parameter_order=True), theme_rows
    ).scalars()
    theme_id_of = dict(zip([t["slug"] for t in theme_rows], theme_ids, strict=True))
    links = [
        {"item_id": id_of[m.stock_code], "theme_id": theme_id_of[m.theme], "score": float(m.score)}
        for m in members.itertuples()
        if m.stock_code in id_of
    ]
    if links:
        session.execute(insert(ItemTheme), links)
    return len(rows)


def theme_labels(session: Session, brand_id: int) -> dict[str, str]:
    rows = session.execute(select(Theme.slug, Theme.label).where(Theme.brand_id == brand_id)).all()
    return {r.slug: r.label for r in rows}
