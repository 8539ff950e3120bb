"""A synthetic UCI-shaped retail file of any size (default 5M events), for ingest benchmarks.

Usage: python bench/synth_retail.py [--events 5000000] [--customers 50000] [--seed 7] [--out PATH]
Writes a parquet with the UCI Online Retail columns and dtypes (InvoiceNo str with
a leading C for cancellations, StockCode, Description, Quantity int64 negative
for returns, InvoiceDate datetime64, UnitPrice float64, CustomerID float64 NaN
for guests, Country) under the temp dir, never the repo. The same arguments give
the same bytes (one numpy Generator, seeded), so figures measured on it can be
reproduced; an existing file with the same name is reused.

Shape, chosen to look like the UCI shop at retailer scale: ~20 lines per
invoice, ~25% of lines by guests, ~2% cancelled lines, ~90% UK customers,
4,000 products from a word grammar (so keyword themes find candles,
christmas, baking...), Zipf-like product popularity, a year of trading.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

COLOURS = ("WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "BLACK", "GOLD", "SILVER", "CREAM")
STYLES = ("VINTAGE", "RETROSPOT", "REGENCY", "HEART", "FLORAL", "SPOTTY", "PAISLEY", "JUMBO")
NOUNS = (
    "T-LIGHT HOLDER", "LANTERN", "CANDLE", "CAKE STAND", "CAKE CASES", "BAKING SET", "MUG",
    "TEA CUP AND SAUCER", "LUNCH BAG", "SHOPPER BAG", "BUNTING", "PAPER CHAIN KIT",
    "CHRISTMAS BAUBLE", "CHRISTMAS TREE DECORATION", "DOORMAT", "CUSHION COVER", "NOTEBOOK",
    "WRAPPING PAPER", "ALARM CLOCK", "PHOTO FRAME", "COAT HANGER", "JAM JAR", "GARDEN MARKER",
)  # fmt: skip
COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium")
COUNTRY_P = (0.90, 0.025, 0.025, 0.02, 0.01, 0.01, 0.01)
START = np.datetime64("2010-12-01T08:00")
DAYS = 373


def default_path(events: int, customers: int, seed: int) -> Path:
    return (
        Path(tempfile.gettempdir())
        / "genpersona-bench"
        / f"synth-{events}-{customers}-{seed}.parquet"
    )


def products(rng: np.random.Generator, n: int = 4000) -> pd.DataFrame:
    codes = [f"{20000 + i}" + ("" if i % 5 else "A") for i in range(n)]
    desc = [
        f"{COLOURS[rng.integers(len(COLOURS))]} {STYLES[rng.integers(len(STYLES))]} "
        f"{NOUNS[rng.integers(len(NOUNS))]}"
        for _ in range(n)
    ]
    price = np.round(np.exp(rng.normal(1.0, 0.8, n)), 2).clip(0.1, 200)
    return pd.DataFrame({"StockCode": codes, "Description": desc, "UnitPrice": price})


def synth_retail(events: int, customers: int, seed: int) -> pd.DataFrame:
    """The table, ``events`` rows long, deterministic in (events, customers, seed)."""
    rng = np.random.default_rng(seed)
    catalog = products(rng)
    sizes = rng.geometric(1 / 20, size=events // 10 + 10)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), events)) + 1]
    sizes[-1] -= int(sizes.sum()) - events
    n_inv = len(sizes)
    guest = rng.random(n_inv) < 0.25
    cust = np.where(guest, np.nan, 12000 + rng.integers(0, customers, n_inv)).astype(float)
    home = rng.choice(len(COUNTRIES), size=customers, p=COUNTRY_P)
    country_ix = np.where(
        guest,
        rng.choice(len(COUNTRIES), size=n_inv, p=COUNTRY_P),
        home[(np.nan_to_num(cust) - 12000).astype(int) % customers],
    )
    minutes = rng.integers(0, DAYS, n_inv) * 1440 + 8 * 60 + rng.integers(0, 10 * 60, n_inv)
    when = np.sort(START + minutes.astype("timedelta64[m]"))
    cancelled = rng.random(n_inv) < 0.02
    invoice = np.char.add(np.where(cancelled, "C", ""), (536365 + np.arange(n_inv)).astype(str))
    inv = np.repeat(np.arange(n_inv), sizes)
    popularity = 1 / np.arange(1, len(catalog) + 1) ** 0.9
    item = rng.choice(len(catalog), size=events, p=popularity / popularity.sum())
    qty = rng.choice(
        np.array([1, 2, 3, 4, 6, 12, 24]), size=events, p=(0.3, 0.2, 0.1, 0.1, 0.15, 0.1, 0.05)
    )
    qty = np.where(cancelled[inv], -qty, qty).astype(np.int64)
    return pd.DataFrame(
        {
            "InvoiceNo": pd.array(invoice[inv], dtype="str"),
            "StockCode": pd.array(np.asarray(catalog["StockCode"])[item], dtype="str"),
            "Description": pd.array(np.asarray(catalog["Description"])[item], dtype="str"),
            "Quantity": qty,
            "InvoiceDate": when[inv].astype("datetime64[ns]"),
            "UnitPrice": catalog["UnitPrice"].to_numpy()[item],
            "CustomerID": cust[inv],
            "Country": pd.array(np.asarray(COUNTRIES)[country_ix][inv], dtype="str"),
        }
    )


def ensure(events: int, customers: int, seed: int, out: Path | None = None) -> Path:
    """The file's path, generated first when absent."""
    path = out or default_path(events, customers, seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        synth_retail(events, customers, seed).to_parquet(tmp, index=False)
        tmp.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    path = ensure(args.events, args.customers, args.seed, args.out)
    print(f"{path} ({path.stat().st_size / 1e6:.0f} MB, {args.events:,} events)")


if __name__ == "__main__":
    main()
