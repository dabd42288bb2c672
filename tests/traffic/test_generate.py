"""`gbv-worker generate`: deterministic, valid, varied, fast synthetic traffic."""

from __future__ import annotations

import collections
import gzip
import json
import re
import time
from pathlib import Path

import orjson
import pytest

from traffic_helpers import run_cli
from worker.events import parse_search_event
from worker.runtime import load_runtime_config
from worker.settings import Settings
from worker.traffic.generate import generate_events, known_countries, load_pools, strip_tones

ROOT = Path(__file__).resolve().parents[2]
SEVEN = ["ID", "MY", "PH", "TH", "SG", "KR", "VN"]


def test_the_same_seed_gives_the_same_events_and_another_seed_others():
    first = [orjson.dumps(e) for e in generate_events(3000, 0.05, SEVEN, seed=42)]
    again = [orjson.dumps(e) for e in generate_events(3000, 0.05, SEVEN, seed=42)]
    other = [orjson.dumps(e) for e in generate_events(3000, 0.05, SEVEN, seed=43)]
    assert first == again
    assert first != other


def test_every_event_is_valid_for_the_worker_and_time_moves_forward():
    events = list(generate_events(20_000, 0.02, None, seed=1))
    parsed = [parse_search_event(orjson.dumps(e)) for e in events]
    assert len({p.event_id for p in parsed}) == len(parsed)
    stamps = [p.ts_ms for p in parsed]
    assert stamps == sorted(stamps)
    assert 300 < (stamps[-1] - stamps[0]) / 1000 < 500           # ~50 events/s recorded pace
    assert {p.country for p in parsed} == set(SEVEN) == set(known_countries())
    sessions = collections.Counter(p.session_id for p in parsed if p.session_id)
    assert max(sessions.values()) > 3 and len(sessions) > 1000   # sessions span several searches
    assert len({p.locale for p in parsed}) > 15 and None in {p.locale for p in parsed}
    assert any(isinstance(e["ts"], str) for e in events) and any(isinstance(e["ts"], int) for e in events)


def test_style_varies_like_real_search_boxes():
    queries = [e["query"] for e in generate_events(20_000, 0.3, None, seed=5)]
    text = "\n".join(queries)
    assert any(q.startswith("#") for q in queries)                                   # hashtags
    assert any(q[:1].isupper() for q in queries)                                     # capitalised
    assert re.search(r"[\u0e00-\u0e7f]", text) and re.search(r"[\uac00-\ud7a3]", text)  # Thai, Hangul
    assert re.search(r"[\u4e00-\u9fff]", text)                                        # Chinese (SG)
    vietnamese = [e["query"] for e in generate_events(4000, 0.0, ["VN"], seed=5)]
    toneless = [q for q in vietnamese if q == strip_tones(q)]
    assert 0.3 < len(toneless) / len(vietnamese) < 0.75                              # typed without tone marks
    assert strip_tones("bạo lực gia đình") == "bao luc gia dinh"


def test_country_choice_and_argument_checks():
    events = list(generate_events(2000, 0.02, ["id", "VN"], seed=3))
    assert {e["country"].upper() for e in events} == {"ID", "VN"}
    with pytest.raises(ValueError, match="unknown country FR"):
        next(generate_events(10, 0.02, ["FR"], seed=3))
    with pytest.raises(ValueError):
        next(generate_events(10, 1.5, None, seed=3))
    broken = list(generate_events(2000, 0.02, None, seed=3, invalid_rate=0.1))
    bad = 0
    for event in broken:
        try:
            parse_search_event(orjson.dumps(event))
        except Exception:
            bad += 1
    assert 120 < bad < 280


def test_the_positive_rate_is_roughly_what_the_worker_detects():
    config = load_runtime_config(Settings.from_env().config_path)
    for rate in (0.0, 0.1):
        events = list(generate_events(10_000, rate, None, seed=9))
        detected = sum(config.detector.detect(e["query"], e["country"].upper(), e.get("locale")).is_gbv
                       for e in events)
        share = detected / len(events)
        print(f"positive_rate={rate}: detector flags {share:.4f}")
        assert share <= 0.005 if rate == 0.0 else 0.06 <= share <= 0.13


def test_200k_events_take_a_few_seconds():
    started = time.perf_counter()
    count = sum(1 for _ in generate_events(200_000, 0.02, SEVEN, seed=7))
    elapsed = time.perf_counter() - started
    print(f"200,000 events generated in {elapsed:.2f} s")
    assert count == 200_000 and elapsed < 10


def test_the_pools_are_not_the_detection_development_set():
    dev = set()
    for path in [ROOT / "tests" / "data" / "gbv-dev.jsonl"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                dev.add(json.loads(line)["q"].strip().lower())
    literal = [t.parts[0] for lang in load_pools().languages.values()
               for t in [*lang.everyday, *(x for v in lang.gbv.values() for x in v)]
               if len(t.parts) == 1 and isinstance(t.parts[0], str)]
    assert len(literal) > 300
    copied = sorted(q for q in literal if q.lower() in dev)
    assert not copied, copied


def test_the_command_writes_gzip_and_refuses_unknown_countries(tmp_path):
    out = tmp_path / "gen.jsonl.gz"
    result = run_cli("generate", "--events", "500", "--countries", "ID,vn", "--seed", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert len(lines) == 500
    assert lines == [orjson.dumps(e) for e in generate_events(500, 0.02, ["ID", "VN"], seed=4)]
    refused = run_cli("generate", "--events", "5", "--countries", "FR", "--out", str(tmp_path / "x.jsonl"))
    assert refused.returncode == 2 and "unknown country FR" in refused.stderr
    assert not (tmp_path / "x.jsonl").exists()
