"""`gbv-worker diff`: two configurations over one recorded stream, per country, offline."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import orjson
import yaml

from traffic_helpers import run_cli, write_lines
from worker.detection import NOT_GBV, Detection
from worker.runtime import load_runtime_config
from worker.settings import Settings
from worker.testing import search_event
from worker.traffic.diff import diff_events, format_report

TS = 1796083200000
MARKER = "zzqx marker"


class StubDetector:
    """query -> category (or nothing): lets a test decide what each configuration detects."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def detect(self, query: str, country: str, locale: str | None = None) -> Detection:
        category = self.answers.get(query)
        return Detection(True, category, (f"stub.{category}",)) if category else NOT_GBV


def stub_configs():
    real = load_runtime_config(Settings.from_env().config_path)
    a = replace(real, detector=StubDetector({"q-stop": "harassment", "q-same": "stalking", "q-cat": "harassment",
                                             "q-fr": "stalking"}),
                config_version="cfg-a", detector_version="det-a")
    b = replace(real, detector=StubDetector({"q-start": "online_gbv", "q-same": "stalking", "q-cat": "sexual_violence",
                                             "q-fr": "harassment"}),
                config_version="cfg-b", detector_version="det-b")
    return a, b


def test_start_stop_and_category_changes_are_counted_per_country(tmp_path):
    a, b = stub_configs()
    lines = [search_event(f"e-{q}-{cc}", q, cc, ts_ms=TS) for q in ("q-stop", "q-same", "q-cat", "q-start", "q-none")
             for cc in ("ID", "KR")]
    lines += [b"not json", search_event("e-fr", "q-fr", "FR", ts_ms=TS)]   # FR: no configuration, no notice
    path = write_lines(tmp_path / "stream.jsonl", lines)
    report = diff_events(a, b, [str(path)])
    assert report.events == 11 and [(p.line, p.reason) for p in report.malformed] == [(11, "invalid_json")]
    for cc in ("ID", "KR"):
        d = report.countries[cc]
        assert (d.events, d.notices_a, d.notices_b) == (5, 3, 3)
        assert dict(d.counts) == {"start": 1, "stop": 1, "changed": 1}
        assert dict(d.categories["start"]) == {"online_gbv": 1}
        assert dict(d.categories["stop"]) == {"harassment": 1}
        assert dict(d.categories["changed"]) == {"harassment -> sexual_violence": 1}
        assert d.examples["start"][0]["event_id"] == f"e-q-start-{cc}"
        assert dict(d.rules["stop"]) == {"stub.harassment": 1}
    fr = report.countries["FR"]                   # no configuration: a notice only through the fallback country
    if a.registry.fallback_country:
        assert (fr.notices_a, fr.notices_b, fr.counts["changed"]) == (1, 1, 1)
    else:
        assert (fr.notices_a, fr.notices_b, sum(fr.counts.values())) == (0, 0, 0)
    text = format_report(report)
    assert "query 'q-start'" not in text and "queries hidden" in text
    shown = format_report(diff_events(a, b, [str(path)], show_queries=True))
    assert "query 'q-start'" in shown


def lexicon_change(tmp_path: Path) -> Path:
    """B = the shipped configuration + one new English rule + one query-scope exclusion."""
    b = tmp_path / "config-b"
    shutil.copytree(Settings.from_env().config_path, b)
    en = b / "lexicons" / "en.yaml"
    data = yaml.safe_load(en.read_text(encoding="utf-8"))
    data["rules"].append({"id": "en.test_marker", "category": "harassment", "terms": [MARKER],
                          "why": "test: a new term"})
    data.setdefault("exclusions", []).append({"id": "en.x.test_hotline", "scope": "query",
                                              "terms": ["domestic violence hotline"], "why": "test: a new veto"})
    en.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return b


def test_a_lexicon_change_is_reviewed_with_the_command(tmp_path):
    config_b = lexicon_change(tmp_path)
    a = load_runtime_config(Settings.from_env().config_path)
    assert a.detector.detect("domestic violence hotline", "SG").is_gbv        # precondition: A shows a notice
    assert not a.detector.detect(MARKER, "SG").is_gbv
    lines = [search_event("sg-start", f"{MARKER} help", "SG", ts_ms=TS),
             search_event("id-start", MARKER, "ID", ts_ms=TS, locale="id-ID"),
             search_event("sg-stop", "domestic violence hotline", "SG", ts_ms=TS),
             search_event("sg-same", "weather today", "SG", ts_ms=TS),
             search_event("sg-gbv-same", "my husband hits me", "SG", ts_ms=TS)]
    path = write_lines(tmp_path / "recorded.jsonl", lines)
    config_a = str(Settings.from_env().config_path)

    result = run_cli("diff", "--config-a", config_a, "--config-b", str(config_b), str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1 start showing a notice under B: harassment 1" in out
    assert "1 stop showing a notice under B: domestic_violence 1" in out
    assert "en.test_marker" in out and "sg-start" in out and "sg-stop" in out
    assert MARKER not in out.replace("en.test_marker", "") and "domestic violence hotline" not in out

    as_json = orjson.loads(run_cli("diff", "--config-a", config_a, "--config-b", str(config_b), str(path),
                                   "--json").stdout)
    sg, id_ = as_json["countries"]["SG"], as_json["countries"]["ID"]
    assert (sg["start"]["count"], sg["stop"]["count"], sg["changed"]["count"]) == (1, 1, 0)
    assert (id_["start"]["count"], id_["stop"]["count"]) == (1, 0)
    assert sg["notices_a"] == 2 and sg["notices_b"] == 2
    assert as_json["config_a"]["config_version"] != as_json["config_b"]["config_version"]

    shown = run_cli("diff", "--config-a", config_a, "--config-b", str(config_b), str(path), "--show-queries")
    assert f"query '{MARKER} help'" in shown.stdout

    gate = run_cli("diff", "--config-a", config_a, "--config-b", str(config_b), str(path), "--fail-on-change")
    assert gate.returncode == 1
    same = run_cli("diff", "--config-a", config_a, "--config-b", config_a, str(path), "--fail-on-change")
    assert same.returncode == 0 and "No event changes" in same.stdout


def test_an_invalid_configuration_is_refused(tmp_path):
    path = write_lines(tmp_path / "r.jsonl", [search_event("x", "weather", "SG", ts_ms=TS)])
    result = run_cli("diff", "--config-a", str(Settings.from_env().config_path), "--config-b",
                     str(tmp_path / "nowhere"), str(path))
    assert result.returncode == 2 and "invalid configuration B" in result.stderr
