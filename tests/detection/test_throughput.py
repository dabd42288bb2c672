from __future__ import annotations

from worker.detection import Detector
from worker.detection.throughput import measure, substring_baseline


def test_measure(detector: Detector) -> None:
    rows = [("suami saya memukul saya", "ID"), ("grape juice", "SG"), {"q": "가정 폭력", "country": "KR"}]
    qps = measure(detector, rows, min_seconds=0.05)
    assert qps > 1000


def test_substring_baseline() -> None:
    rows = [("Suami saya memukul saya", "ID"), ("grape juice", "SG")]
    assert substring_baseline(rows, ["rape", "pukul"], min_seconds=0.05) > 1000
    assert substring_baseline(["plain", "strings"], ["x"], min_seconds=0.05) > 1000
