"""Trigger rate of the detector on a benign corpus (one everyday query per line).

    python -m worker.detection.benign FILE --country CC [--locale L] [--json] [--config DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .engine import Detector

__all__ = ["benign_rate", "format_benign", "load_lines", "main"]


def load_lines(path: Path | str) -> list[str]:
    """Non-empty lines of a text file (a line starting with '#' is a query, not a comment)."""
    with open(path, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip()]


def benign_rate(detector: Detector, lines: Iterable[str], country: str, locale: str | None = None) -> dict[str, Any]:
    """{"n", "triggered", "rate", "lines": [{"q", "category", "rule_ids"}]}."""
    n = 0
    hits = []
    for q in lines:
        n += 1
        d = detector.detect(q, country, locale)
        if d.is_gbv:
            hits.append({"q": q, "category": d.category, "rule_ids": list(d.rule_ids)})
    return {"n": n, "triggered": len(hits), "rate": (len(hits) / n) if n else 0.0, "lines": hits}


def format_benign(res: Mapping[str, Any]) -> str:
    out = [f"{res['triggered']}/{res['n']} triggered ({res['rate'] * 100:.2f}%)"]
    for h in res["lines"]:
        out.append(f"  {h['q']!r} -> {h['category']} {','.join(h['rule_ids'])}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from ._cli import add_config_arg, detector_from_args

    p = argparse.ArgumentParser(prog="python -m worker.detection.benign", description="Benign corpus trigger rate.")
    p.add_argument("file", type=Path)
    p.add_argument("--country", required=True)
    p.add_argument("--locale", default=None)
    p.add_argument("--json", action="store_true")
    add_config_arg(p)
    args = p.parse_args(argv)
    det = detector_from_args(args)
    res = benign_rate(det, load_lines(args.file), args.country, args.locale)
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        print(f"detector {det.version}")
        print(format_benign(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
