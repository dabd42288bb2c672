from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.detection import benign, evaluate, explain, load_detector

from .conftest import write_config

ROWS = [
    {"q": "suami saya memukul saya", "country": "ID", "label": 1, "category": "domestic_violence"},
    {"q": "pukul 5 sore", "country": "ID", "label": 0, "note": "hard negative: time of day"},
    {"query": "kdrama terbaru", "country": "ID", "label": 0},
    {"q": "suami suka marah", "country": "ID", "label": 1, "category": "domestic_violence"},
    {"q": "grape juice", "country": "SG", "label": 0},
    {"q": "rape", "country": "SG", "label": 1, "category": "sexual_violence"},
    {"q": "human trafficking", "country": "sg", "label": 1, "category": "trafficking"},
    {"q": "traffic rape", "country": "SG", "label": 0},
]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(tmp_path / "cfg")


@pytest.fixture
def devfile(tmp_path: Path) -> Path:
    p = tmp_path / "dev.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n", encoding="utf-8")
    return p


def test_evaluate_rows(cfg: Path, devfile: Path) -> None:
    det = load_detector(cfg)
    report = evaluate.evaluate_rows(det, evaluate.load_rows(devfile))
    o = report["overall"]
    assert (o["tp"], o["fp"], o["fn"], o["tn"]) == (3, 1, 1, 3)
    assert o["precision"] == 0.75 and o["recall"] == 0.75 and o["f1"] == 0.75
    assert report["per_country"]["ID"]["fn"] == 1
    assert report["per_country"]["SG"]["fp"] == 1
    assert set(report["per_country"]) == {"ID", "SG"}
    dv = report["per_category"]["domestic_violence"]
    assert (dv["tp"], dv["fn"], dv["category_ok"]) == (1, 1, 1)
    sv = report["per_category"]["sexual_violence"]
    assert (sv["tp"], sv["fp"]) == (1, 1)  # "traffic rape" predicted sexual_violence
    mis = report["misclassified"]
    assert [m["q"] for m in mis] == ["suami suka marah", "traffic rape"]
    text = evaluate.format_report(report)
    assert "overall" in text and "FN" in text and "FP" in text and "suami suka marah" in text


def test_evaluate_cli_json(cfg: Path, devfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main([str(devfile), "--json", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    obj = json.loads(out)  # exactly one JSON document
    assert set(obj) == {"overall", "per_country", "per_category"}
    assert set(obj["overall"]) >= {"precision", "recall", "f1", "tp", "fp", "fn", "tn"}
    assert out.count("\n") == 1


def test_evaluate_cli_text(cfg: Path, devfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main([str(devfile), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "per country" in out and "misclassified (2)" in out


def test_evaluate_bad_rows(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"q": "x", "country": "ID", "label": 1}\n{"q": "y", "country": "ID"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        evaluate.load_rows(p)


def test_explain_cli(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert explain.main(["bf ko sinaktan ako", "--country", "PH", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "GBV (dating_violence)" in out and "combo.dating_harm" in out and "sinaktan" in out
    assert explain.main(["kdrt", "--country", "SG", "--locale", "id-ID", "--json", "--config", str(cfg)]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["decision"]["is_gbv"] is True and obj["languages"] == ["en", "id"]


def test_format_explanation(cfg: Path) -> None:
    det = load_detector(cfg)
    text = explain.format_explanation(det.explain("suami pulang pukul 5", "ID"))
    assert "not GBV" in text and "id.x.pukul_jam" in text and "masked" in text


def test_benign(cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "id.txt"
    p.write_text("cuaca besok\npukul 5 sore\n\n#KDRT\nresep nasi goreng\n", encoding="utf-8")
    det = load_detector(cfg)
    res = benign.benign_rate(det, benign.load_lines(p), "ID")
    assert res["n"] == 4 and res["triggered"] == 1 and res["rate"] == 0.25
    assert res["lines"][0]["q"] == "#KDRT"
    assert benign.main([str(p), "--country", "ID", "--config", str(cfg)]) == 0
    assert "1/4 triggered (25.00%)" in capsys.readouterr().out


def test_invalid_config_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "cfg")
    (cfg / "lexicons" / "combinations.yaml").write_text("concepts_vocabulary: []\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        explain.main(["x", "--country", "ID", "--config", str(cfg)])
    assert exc.value.code == 2
    assert "combinations.yaml" in capsys.readouterr().err


def test_invalid_language_file_is_skipped_with_warning(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = cfg / "lexicons" / "tl.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("sexual_violence", "bogus"), encoding="utf-8")
    assert explain.main(["rape", "--country", "PH", "--config", str(cfg)]) == 0
    captured = capsys.readouterr()
    assert "skipping invalid lexicon" in captured.err and "tl.yaml" in captured.err
    assert "GBV (sexual_violence)" in captured.out
