"""Evaluate the detector on a labelled JSONL file.

    python -m worker.detection.evaluate FILE [--json] [--config DIR]

Each line: {"q" or "query": str, "country": "ID", "label": 0|1, optional "category",
"lang", "note", "locale"}. Prints precision, recall, F1 and tp/fp/fn/tn overall, per
country and per category, then the misclassified lines. With --json prints exactly one
JSON object {"overall", "per_country", "per_category"} and nothing else on stdout.

Per category: tp/fn count label-1 rows of that gold category (detected or not); fp
counts label-0 rows the detector put in that category; tn the other label-0 rows;
"category_ok" counts tp rows whose predicted category equals the gold one.
Precision is 1.0 when nothing was predicted positive, recall 1.0 when there are no
positives.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .engine import Detector
from .lexicon import CATEGORIES

__all__ = ["evaluate_rows", "format_report", "load_rows", "main", "metrics"]


def load_rows(path: Path | str) -> list[dict[str, Any]]:
    """Read a JSONL file; raises ValueError naming the line for bad rows."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: invalid JSON: {e}") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{path}:{n}: each line must be a JSON object")
            q = obj.get("q", obj.get("query"))
            if not isinstance(q, str):
                raise ValueError(f"{path}:{n}: missing string field 'q' (or 'query')")
            if not isinstance(obj.get("country"), str):
                raise ValueError(f"{path}:{n}: missing string field 'country'")
            label = obj.get("label")
            if label not in (0, 1, True, False):
                raise ValueError(f"{path}:{n}: 'label' must be 0 or 1, got {label!r}")
            obj["q"] = q
            obj["label"] = int(label)
            obj["_line"] = n
            obj["_file"] = str(path)
            rows.append(obj)
    return rows


def metrics(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def evaluate_rows(detector: Detector, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Run the detector over labelled rows and return the report dict.

    Keys: overall, per_country, per_category (metric dicts) and misclassified (list of
    {q, country, label, category, predicted_category, rule_ids, note, line}).
    """
    overall = [0, 0, 0, 0]  # tp fp fn tn
    per_country: dict[str, list[int]] = {}
    per_cat: dict[str, list[int]] = {}
    cat_ok: dict[str, int] = {}
    mis: list[dict[str, Any]] = []
    results = []
    for row in rows:
        q = row.get("q", row.get("query"))
        cc = str(row["country"]).upper()
        label = int(row["label"])
        det = detector.detect(q, cc, row.get("locale"))
        results.append((row, cc, label, det))
    cats_seen = set()
    for row, cc, label, det in results:
        if label and row.get("category"):
            cats_seen.add(row["category"])
        if det.category:
            cats_seen.add(det.category)
    cat_order = [c for c in CATEGORIES if c in cats_seen] + sorted(cats_seen - set(CATEGORIES))
    for c in cat_order:
        per_cat[c] = [0, 0, 0, 0]
        cat_ok[c] = 0
    for row, cc, label, det in results:
        pc = per_country.setdefault(cc, [0, 0, 0, 0])
        pred = det.is_gbv
        idx = (0 if pred else 2) if label else (1 if pred else 3)
        overall[idx] += 1
        pc[idx] += 1
        gold_cat = row.get("category") if label else None
        for c in cat_order:
            if label:
                if gold_cat == c:
                    per_cat[c][0 if pred else 2] += 1
                    if pred and det.category == c:
                        cat_ok[c] += 1
            else:
                per_cat[c][1 if det.category == c else 3] += 1
        if pred != bool(label):
            mis.append(
                {
                    "q": row.get("q", row.get("query")),
                    "country": cc,
                    "label": label,
                    "category": gold_cat,
                    "predicted_category": det.category,
                    "rule_ids": list(det.rule_ids),
                    "note": row.get("note"),
                    "line": row.get("_line"),
                }
            )
    report: dict[str, Any] = {
        "overall": metrics(*overall),
        "per_country": {cc: metrics(*v) for cc, v in sorted(per_country.items())},
        "per_category": {},
        "misclassified": mis,
    }
    for c in cat_order:
        m = metrics(*per_cat[c])
        m["category_ok"] = cat_ok[c]
        report["per_category"][c] = m
    return report


def _line(name: str, m: Mapping[str, Any], width: int) -> str:
    return (
        f"{name:<{width}}  P={m['precision']:.3f}  R={m['recall']:.3f}  F1={m['f1']:.3f}"
        f"  tp={m['tp']} fp={m['fp']} fn={m['fn']} tn={m['tn']}"
    )


def format_report(report: Mapping[str, Any]) -> str:
    """Human-readable report (overall, per country, per category, misclassified)."""
    out = [_line("overall", report["overall"], 18), "", "per country:"]
    for cc, m in report["per_country"].items():
        out.append("  " + _line(cc, m, 16))
    out.append("")
    out.append("per category (fp = negatives predicted in this category):")
    for c, m in report["per_category"].items():
        extra = f"  category_ok={m['category_ok']}/{m['tp']}" if "category_ok" in m else ""
        out.append("  " + _line(c, m, 16) + extra)
    mis = report.get("misclassified") or []
    out.append("")
    out.append(f"misclassified ({len(mis)}):")
    for r in mis:
        kind = "FN" if r["label"] else "FP"
        if r["label"]:
            what = f"[{r['category']}]"
        else:
            what = f"-> {r['predicted_category']} {','.join(r['rule_ids'])}"
        note = f"  # {r['note']}" if r.get("note") else ""
        loc = f"{r['line']}:" if r.get("line") else ""
        out.append(f"  {kind} {loc}{r['country']} {r['q']!r} {what}{note}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from ._cli import add_config_arg, detector_from_args

    p = argparse.ArgumentParser(prog="python -m worker.detection.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, nargs="+", help="JSONL file(s) of labelled queries")
    p.add_argument("--json", action="store_true", help="print one JSON object only")
    add_config_arg(p)
    args = p.parse_args(argv)
    det = detector_from_args(args)
    rows: list[dict[str, Any]] = []
    try:
        for f in args.file:
            rows.extend(load_rows(f))
    except (OSError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 2
    report = evaluate_rows(det, rows)
    if args.json:
        obj = {k: report[k] for k in ("overall", "per_country", "per_category")}
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    else:
        print(f"detector {det.version}, {len(rows)} rows")
        print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
