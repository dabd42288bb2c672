"""Throughput measurement for `make bench`.

``measure(detector, rows, min_seconds=1.0)`` -> queries per second of
``detector.detect`` over ``rows`` (each row a ``(query, country)`` /
``(query, country, locale)`` tuple or a mapping with q/query, country, locale),
repeated until at least ``min_seconds`` elapsed; automata are compiled before timing.
``substring_baseline(rows, terms, min_seconds=1.0)`` -> queries per second of a plain
``any(t in q.lower() for t in terms)`` scan, for comparison.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .engine import Detector

__all__ = ["measure", "substring_baseline", "as_triples"]


def as_triples(rows: Iterable[Any]) -> list[tuple[str, str, str | None]]:
    out = []
    for r in rows:
        if isinstance(r, Mapping):
            out.append((r.get("q", r.get("query")), str(r["country"]), r.get("locale")))
        elif isinstance(r, str):
            raise TypeError("rows must carry a country: (query, country[, locale]) or a mapping")
        else:
            t = tuple(r)
            out.append((t[0], t[1], t[2] if len(t) > 2 else None))
    return out


def measure(detector: Detector, rows: Iterable[Any], min_seconds: float = 1.0) -> float:
    triples = as_triples(rows)
    if not triples:
        return 0.0
    detect = detector.detect
    for q, cc, loc in triples:  # warm-up: compile automata, fill stem caches
        detect(q, cc, loc)
    n = 0
    perf = time.perf_counter
    start = perf()
    while True:
        for q, cc, loc in triples:
            detect(q, cc, loc)
        n += len(triples)
        elapsed = perf() - start
        if elapsed >= min_seconds:
            return n / elapsed


def substring_baseline(rows: Iterable[Any], terms: Sequence[str], min_seconds: float = 1.0) -> float:
    queries = [t[0] for t in as_triples(rows)] if not _all_str(rows) else list(rows)  # type: ignore[arg-type]
    terms = [t for t in terms if t]
    if not queries:
        return 0.0
    n = 0
    perf = time.perf_counter
    start = perf()
    while True:
        for q in queries:
            ql = q.lower()
            any(t in ql for t in terms)
        n += len(queries)
        elapsed = perf() - start
        if elapsed >= min_seconds:
            return n / elapsed


def _all_str(rows: Any) -> bool:
    return isinstance(rows, (list, tuple)) and all(isinstance(r, str) for r in rows)
