"""Explain the detector's decision for one query.

    python -m worker.detection.explain QUERY --country CC [--locale L] [--json] [--config DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["format_explanation", "main"]


def format_explanation(exp: Mapping[str, Any]) -> str:
    """Human-readable rendering of Detector.explain()."""
    d = exp["decision"]
    verdict = f"GBV ({d['category']})" if d["is_gbv"] else "not GBV"
    out = [
        f"query:     {exp['query']!r}",
        f"country:   {exp['country']}  locale: {exp.get('locale')}  languages: {', '.join(exp['languages'])}",
        f"decision:  {verdict}" + (f"  rules: {', '.join(d['rule_ids'])}" if d["rule_ids"] else ""),
    ]
    if d.get("vetoed_by"):
        out.append(f"vetoed by: {', '.join(d['vetoed_by'])}")
    out.append("views:")
    for name, text in exp.get("views", {}).items():
        out.append(f"  {name:<16} {text!r}")
    if exp.get("rules"):
        out.append("rules fired:")
        for r in exp["rules"]:
            if r["kind"] == "combination":
                m = " + ".join("[" + ", ".join(g) + "]" for g in r["matched"])
            else:
                m = ", ".join(r["matched"])
            out.append(f"  {r['id']} ({r['category']}): {m}")
    if exp.get("concepts"):
        out.append("concepts:")
        for name, terms in exp["concepts"].items():
            out.append(f"  {name}: {', '.join(terms)}")
    if exp.get("groups"):
        out.append("inline groups:")
        for name, terms in exp["groups"].items():
            out.append(f"  {name}: {', '.join(terms)}")
    if exp.get("exclusions"):
        out.append("exclusions matched:")
        for x in exp["exclusions"]:
            out.append(f"  {x['id']} ({x['scope']}): {', '.join(x['matched'])}")
    if exp.get("masked"):
        out.append("masked by span exclusions:")
        for m in exp["masked"]:
            out.append(f"  {m['signal']}: {m['term']} ({m['view']})")
    out.append(f"version:   {exp.get('version')}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from ._cli import add_config_arg, detector_from_args

    p = argparse.ArgumentParser(prog="python -m worker.detection.explain", description="Explain one detection.")
    p.add_argument("query")
    p.add_argument("--country", required=True)
    p.add_argument("--locale", default=None)
    p.add_argument("--json", action="store_true")
    add_config_arg(p)
    args = p.parse_args(argv)
    det = detector_from_args(args)
    exp = det.explain(args.query, args.country, args.locale)
    if args.json:
        print(json.dumps(exp, ensure_ascii=False, indent=2))
    else:
        print(format_explanation(exp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
