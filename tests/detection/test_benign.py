"""The real lexicons (config/) against the benign corpora tests/data/benign/<lang>.txt:
at most 0.5% of everyday queries may trigger a notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.detection import Detector, load_detector
from worker.detection.benign import benign_rate, format_benign, load_lines

DATA = Path(__file__).resolve().parents[1] / "data" / "benign"
MAX_RATE = 0.005
LANG_COUNTRY = {"id": "ID", "ms": "MY", "tl": "PH", "th": "TH", "en": "SG", "ko": "KR", "vi": "VN", "zh": "SG"}
FILES = sorted(DATA.glob("*.txt")) if DATA.is_dir() else []


@pytest.fixture(scope="module")
def real_detector() -> Detector:
    return load_detector()


@pytest.mark.parametrize(
    "path",
    FILES or [pytest.param(None, marks=pytest.mark.skip(reason=f"no benign corpus under {DATA}"))],
    ids=lambda p: p.stem if isinstance(p, Path) else "none",
)
def test_benign_trigger_rate(real_detector: Detector, path: Path) -> None:
    lang = path.stem
    assert lang in LANG_COUNTRY, f"no country mapped for benign corpus {path.name}"
    res = benign_rate(real_detector, load_lines(path), LANG_COUNTRY[lang])
    print(f"\n{lang} ({LANG_COUNTRY[lang]}): {format_benign(res)}")
    assert res["n"] > 0, f"{path} is empty"
    assert res["rate"] <= MAX_RATE, f"{lang}: {res['triggered']}/{res['n']} benign queries triggered"
