"""Throughput measurement for `make bench`.

``measure(detector, rows, min_seconds=1.0)`` -> queries per second of
``detector.detect`` over ``rows`` (each row a ``(query, country)`` /
``(query, country, locale)`` tuple or a mapping with q/query, country, locale),
repeated until at least ``min_seconds`` of CPU time were spent; automata are compiled
and per-token caches warmed before timing. Time is the CPU time of this process
(``time.process_time``): "queries per second on one core", not disturbed by other
processes competing for the CPU (though they still slow it down through shared caches:
``main`` reports several runs and their median).
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
    perf = time.process_time
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
    perf = time.process_time
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


def main(argv: list[str] | None = None) -> int:
    """python -m worker.detection.throughput [FILE ...] [--seconds S] [--config DIR]

    FILEs: JSONL (q/query + country) or <lang>.txt benign corpora (country from the
    language); default: tests/data/gbv-dev.jsonl and tests/data/benign/*.txt.
    """
    import argparse
    import json
    import random
    import statistics
    from pathlib import Path

    from ._cli import add_config_arg, detector_from_args

    lang_country = {"id": "ID", "ms": "MY", "tl": "PH", "th": "TH", "en": "SG", "ko": "KR", "vi": "VN", "zh": "SG"}
    p = argparse.ArgumentParser(prog="python -m worker.detection.throughput")
    p.add_argument("files", nargs="*", type=Path)
    p.add_argument("--seconds", type=float, default=2.0, help="CPU seconds per run")
    p.add_argument("--runs", type=int, default=1, help="timed runs (the machine is noisy: median and best)")
    p.add_argument("--python-scans", action="store_true", help="the Python scans even if the C extension is built")
    add_config_arg(p)
    args = p.parse_args(argv)
    files = args.files
    if not files:
        data = Path(__file__).resolve().parents[2] / "tests" / "data"
        files = [data / "gbv-dev.jsonl"] + sorted((data / "benign").glob("*.txt"))
    rows: list[tuple[str, str]] = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                if f.suffix == ".jsonl":
                    o = json.loads(line)
                    rows.append((o.get("q", o.get("query")), o["country"]))
                else:
                    rows.append((line, lang_country.get(f.stem, "SG")))
    random.Random(1).shuffle(rows)
    det = detector_from_args(args)
    if args.python_scans:
        det = Detector(det.lexicons, det.country_languages, native=False)
    terms = sorted({t.raw for lx in det.lexicons.lexicons.values() for r in lx.rules for t in r.terms})
    runs = [measure(det, rows, args.seconds) for _ in range(max(1, args.runs))]
    qps = statistics.median(runs)
    base = substring_baseline(rows, terms, min(args.seconds, 1.0))
    print(f"{len(rows)} queries, detector {det.version}")
    print("scans: " + ("C (worker/detection/_acscan.c)" if det.native else "Python over ahocorasick_rs"))
    print(f"detect:             {qps:>12,.0f} queries/s ({1e6 / qps:.2f} us/query)")
    if len(runs) > 1:
        print(f"  {len(runs)} runs (median above): best {max(runs):,.0f}, " + ", ".join(f"{r:,.0f}" for r in runs))
    print(f"substring baseline: {base:>12,.0f} queries/s ({len(terms)} direct terms, no normalisation)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
