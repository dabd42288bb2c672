from __future__ import annotations

from worker.detection import Detector
from worker.detection.throughput import main, measure, substring_baseline


def test_measure(detector: Detector) -> None:
    rows = [("suami saya memukul saya", "ID"), ("grape juice", "SG"), {"q": "가정 폭력", "country": "KR"}]
    qps = measure(detector, rows, min_seconds=0.05)
    assert qps > 1000


def test_substring_baseline() -> None:
    rows = [("Suami saya memukul saya", "ID"), ("grape juice", "SG")]
    assert substring_baseline(rows, ["rape", "pukul"], min_seconds=0.05) > 1000
    assert substring_baseline(["plain", "strings"], ["x"], min_seconds=0.05) > 1000


def test_measure_python_scans(detector: Detector) -> None:
    """The Python fallback of the C scans (same decisions, see test_equivalence.py)."""
    slow = Detector(detector.lexicons, detector.country_languages, native=False)
    rows = [("suami saya memukul saya", "ID"), ("chồng đánh vợ", "VN"), ("가정 폭력", "KR")]
    assert [slow.detect(q, cc) for q, cc in rows] == [detector.detect(q, cc) for q, cc in rows]
    assert measure(slow, rows, min_seconds=0.05) > 1000


def test_main_reports_the_scans(capsys) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    dev = Path(__file__).resolve().parents[1] / "data" / "benign" / "ko.txt"
    assert main([str(dev), "--seconds", "0.05", "--python-scans"]) == 0
    out = capsys.readouterr().out
    assert "scans: Python over ahocorasick_rs" in out and "queries/s" in out
