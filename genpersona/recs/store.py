"""Wiring of the recommender (``genpersona.recs``) to the stores.

Fitted after every ingest from the events table, the catalog and the catalog
item vectors in the vector store (the ingest functions take ``fit_recommender``
as their ``fit_recs`` callable, since data sits below recs), saved under
``$GENPERSONA_HOME/recs/`` and loaded lazily once per process. Erase and reset refit it, so the saved model
never keeps a customer's history after they asked us to forget it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.data.catalog import load_item_vectors, load_items
from genpersona.data.tables import Brand, Customer, Event
from genpersona.db.base import utcnow
from genpersona.recs.recommender import Recommender
from genpersona.recs.serving import (
    ServedRecs,
    build_served,
    load_served,
    save_served,
    served_path,
)
from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import VectorStore


@dataclass
class LoadedRecommender:
    model: Recommender
    fitted_at: datetime
    path: Path
    mtime: float
    #: every known customer's default answer, computed at fit time (None: compute live)
    served: ServedRecs | None = None


_CACHE: dict[str, LoadedRecommender] = {}
_LOCK = threading.Lock()


def recommender_path(brand_slug: str, settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.home_dir / "recs" / f"{brand_slug}.npz"


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def purchases_frame(session: Session, brand: Brand) -> pd.DataFrame:
    """All purchases of the brand; guests and pre-reset history count only as anonymous sales."""
    stmt = (
        select(
            Customer.external_id,
            Customer.learning_since,
            Event.stock_code,
            Event.ts,
            Event.quantity,
            Event.country,
            Event.order_id,
        )
        .outerjoin(Customer, Customer.id == Event.customer_id)
        .where(Event.brand_id == brand.id, Event.type == "purchase", Event.stock_code.is_not(None))
    )
    rows = session.execute(stmt).all()
    cols = ["customer_id", "learning_since", "stock_code", "ts", "quantity", "country", "basket_id"]
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame.drop(columns=["learning_since"])
    frame["ts"] = pd.to_datetime(frame["ts"])
    since = pd.to_datetime(frame["learning_since"])
    forgotten = since.notna() & (frame["ts"] < since)
    frame.loc[forgotten, "customer_id"] = None
    frame["quantity"] = frame["quantity"].fillna(1).astype(int)
    frame["country"] = frame["country"].fillna("")
    return frame.drop(columns=["learning_since"])


def fit_recommender(
    session: Session, brand: Brand, store: VectorStore, settings: Settings | None = None
) -> Path | None:
    """Fit and save the brand's recommender; None (and no file) when there is nothing to learn."""
    path = recommender_path(brand.slug, settings)
    items = load_items(session, brand)
    purchases = purchases_frame(session, brand)
    if items.empty or purchases.empty:
        drop_recommender(brand.slug, settings)
        return None
    vectors = load_item_vectors(brand, items["stock_code"].tolist(), store)
    model = Recommender.fit(purchases, items, vectors)
    token = uuid.uuid4().hex
    meta: dict[str, object] = {"fitted_at": utcnow().isoformat(), "purchases": len(purchases)}
    settings = settings or get_settings()
    if settings.recs_precompute:
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        save_served(build_served(model, token), served_path(path))
        meta |= {"token": token, "served_seconds": round(time.perf_counter() - started, 2)}
    else:
        served_path(path).unlink(missing_ok=True)
    # the table is written first and names its fit: a reader never pairs it with another model
    model.save(path)
    _meta_path(path).write_text(json.dumps(meta), encoding="utf-8")
    with _LOCK:
        _CACHE.pop(str(path), None)
    return path


def drop_recommender(brand_slug: str, settings: Settings | None = None) -> None:
    path = recommender_path(brand_slug, settings)
    for p in (path, _meta_path(path), served_path(path)):
        p.unlink(missing_ok=True)
    with _LOCK:
        _CACHE.pop(str(path), None)


def get_recommender(brand_slug: str, settings: Settings | None = None) -> LoadedRecommender | None:
    """The saved model, loaded once per process (reloaded if another process refitted it)."""
    path = recommender_path(brand_slug, settings)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    key = str(path)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit.mtime == mtime:
            return hit
        model = Recommender.load(path)
        meta_file = _meta_path(path)
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        fitted_at = (
            datetime.fromisoformat(meta["fitted_at"])
            if "fitted_at" in meta
            else datetime.fromtimestamp(mtime)
        )
        served = load_served(served_path(path), meta["token"]) if "token" in meta else None
        loaded = LoadedRecommender(
            model=model, fitted_at=fitted_at, path=path, mtime=mtime, served=served
        )
        _CACHE[key] = loaded
        return loaded


def clear_recommender_cache() -> None:
    with _LOCK:
        _CACHE.clear()
