"""Files under the home that are no store's: campaign exports (``genpersona campaign export
--out`` into the home), customer exports (``customer export --out``), other JSON/CSV files.

Erase rewrites them without the customer: a CSV row with a cell equal to their id goes; in
JSON and JSONL, the smallest list element (or top-level record) that names them under an id
key (or as a whole string value) goes — a Klaviyo bulk job keeps its other profiles, a
customer's own export file is deleted. Files are rewritten atomically. A file that
mentions the id but cannot be parsed is reported, not guessed at. The stores themselves
(the database file, ``chroma/``, ``recs/``) are scrubbed by their own code and skipped here.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

ID_KEYS = frozenset({"customer_id", "external_id", "customer"})
_DROP = object()


class HomeFilesReport(BaseModel):
    rewritten: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    unreadable: list[str] = Field(default_factory=list)  # mention the id, not JSON/CSV


def _prune(value: Any, cid: str) -> Any:
    """``value`` without what names ``cid``; ``_DROP`` when ``value`` itself names them."""
    if isinstance(value, str):
        return _DROP if value == cid else value
    if isinstance(value, dict):
        if any(k in ID_KEYS and str(v) == cid for k, v in value.items()):
            return _DROP
        out = {}
        for k, v in value.items():
            pruned = _prune(v, cid)
            if pruned is _DROP:
                return _DROP  # a record's field names them: the record is about them
            out[k] = pruned
        return out
    if isinstance(value, list):
        return [p for p in (_prune(v, cid) for v in value) if p is not _DROP]
    return value


def _write_atomically(path: Path, data: str) -> None:
    tmp = path.with_name(f".{path.name}.erase-tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


def _scrub_jsonl(text: str, cid: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        pruned = _prune(json.loads(line), cid)
        if pruned is not _DROP:
            lines.append(json.dumps(pruned, ensure_ascii=False))
    return "".join(f"{line}\n" for line in lines)


def _scrub_csv(text: str, cid: str) -> str:
    rows = [r for r in csv.reader(io.StringIO(text)) if cid not in r]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _candidates(home: Path, skip: Iterable[Path]) -> Iterable[Path]:
    skipped = [p.resolve() for p in skip]
    for path in sorted(home.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in {".json", ".jsonl", ".csv"}:
            continue
        real = path.resolve()
        if any(real == s or s in real.parents for s in skipped):
            continue
        yield path


def scrub_home_files(home: Path, customer_id: str, skip: Iterable[Path]) -> HomeFilesReport:
    """Remove the customer from every JSON/JSONL/CSV file under ``home`` outside ``skip``."""
    report = HomeFilesReport()
    needle = customer_id.encode()
    for path in _candidates(home, skip):
        raw = path.read_bytes()
        if needle not in raw:
            continue
        name = str(path.relative_to(home))
        text = raw.decode("utf-8", errors="strict")
        try:
            if path.suffix.lower() == ".csv":
                new = _scrub_csv(text, customer_id)
            elif path.suffix.lower() == ".jsonl":
                new = _scrub_jsonl(text, customer_id)
            else:
                pruned = _prune(json.loads(text), customer_id)
                if pruned is _DROP:
                    path.unlink()
                    report.deleted.append(name)
                    continue
                new = json.dumps(pruned, ensure_ascii=False, indent=2)
        except (ValueError, csv.Error):
            report.unreadable.append(name)
            continue
        if new != text:
            _write_atomically(path, new)
            report.rewritten.append(name)
    return report
