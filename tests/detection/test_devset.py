"""The real lexicons (config/) against the development sets (tests/data/).

Reads tests/data/gbv-dev.jsonl and
requires precision >= 0.97 and recall >= 0.95 for every country present.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.detection import Detector, load_detector
from worker.detection.evaluate import evaluate_rows, format_report, load_rows

DATA = Path(__file__).resolve().parents[1] / "data"
MIN_PRECISION = 0.97
MIN_RECALL = 0.95


def dev_files() -> list[Path]:
    return [DATA / "gbv-dev.jsonl"]


def _rows() -> list[dict]:
    rows: list[dict] = []
    for f in dev_files():
        rows.extend(load_rows(f))
    return rows


ROWS = _rows()
COUNTRIES = sorted({str(r["country"]).upper() for r in ROWS})


@pytest.fixture(scope="module")
def real_detector() -> Detector:
    # strict: an invalid lexicon fails here rather than being skipped
    return load_detector()


def test_real_config_is_valid(real_detector: Detector) -> None:
    assert real_detector.version.startswith("det-")
    real_detector.warm()


@pytest.mark.parametrize(
    "country",
    COUNTRIES or [pytest.param(None, marks=pytest.mark.skip(reason=f"no development set under {DATA}"))],
)
def test_devset_country(real_detector: Detector, country: str) -> None:
    rows = [r for r in ROWS if str(r["country"]).upper() == country]
    report = evaluate_rows(real_detector, rows)
    m = report["overall"]
    print(f"\n{country}: P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} "
          f"tp={m['tp']} fp={m['fp']} fn={m['fn']} tn={m['tn']} ({len(rows)} rows)")
    if m["precision"] < MIN_PRECISION or m["recall"] < MIN_RECALL:
        print(format_report(report))
    assert m["precision"] >= MIN_PRECISION, f"{country} precision {m['precision']}"
    assert m["recall"] >= MIN_RECALL, f"{country} recall {m['recall']}"
