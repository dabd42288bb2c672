"""`gbv-worker replay`: line classification, malformed-line reports, pacing, and the acceptance run
(100,000 generated events at 2,000/s through a running worker, then `capture` of the notices)."""

from __future__ import annotations

import gzip
import time

import orjson
import pytest

from traffic_helpers import run_cli, write_lines
from worker.events import parse_search_event
from worker.notices.selection import choose_notice
from worker.runtime import load_runtime_config
from worker.settings import Settings
from worker.testing import consume, search_event
from worker.traffic.records import InputLine, encode_record
from worker.traffic.replay import Problem, format_problems, prepare

SECRET = "secret-query-never-printed"


def line(raw: bytes, number: int = 1) -> InputLine:
    return InputLine("f.jsonl", number, raw)


# -- pure ------------------------------------------------------------------------------------------
def test_a_search_event_line_is_sent_as_is_keyed_by_its_event_id():
    raw = search_event("e-1", "kdrt", "ID", ts_ms=1796083200000)
    outgoing, reason = prepare(line(raw))
    assert reason is None
    assert (outgoing.key, outgoing.value, outgoing.ts_ms) == (b"e-1", raw, 1796083200000)


def test_a_captured_record_replays_its_value_with_its_key():
    value = search_event("e-2", "kdrt", "ID", ts_ms=1796083200000)
    captured = encode_record("search-events", 3, 17, 1795000000000, b"original-key", value).rstrip(b"\n")
    outgoing, reason = prepare(line(captured))
    assert reason is None
    assert outgoing.key == b"original-key"
    assert orjson.loads(outgoing.value) == orjson.loads(value)
    # without a key in the record, the event id is the key
    keyless = encode_record("search-events", 3, 18, 1795000000000, None, value).rstrip(b"\n")
    assert prepare(line(keyless))[0].key == b"e-2"


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "invalid_json"),
    (b'{"event_id": "\xff"}', "invalid_utf8"),
    (b"[1, 2]", "not_an_object"),
    (orjson.dumps({"event_id": "x", "ts": 1796083200000, "query": SECRET}), "missing_field:country"),
    (orjson.dumps({"event_id": "x", "ts": "tomorrow", "query": SECRET, "country": "ID"}), "bad_value:ts"),
    (b'{"partition": 0, "offset": 1, "value_b64": "***"}', "bad_record:value_b64"),
    (b'{"partition": 0, "offset": 1, "tombstone": true}', "empty"),
    (b'{"partition": 0, "offset": 1, "value": {"event_id": 5}}', "bad_type:event_id"),
])
def test_malformed_lines_get_a_reason_code_and_never_their_text(raw, reason):
    _, got = prepare(line(raw))
    assert got == reason
    assert SECRET not in got


def test_consecutive_problems_with_one_reason_are_grouped():
    problems = [Problem("a", 2, "invalid_json"), Problem("a", 3, "invalid_json"), Problem("a", 4, "invalid_json"),
                Problem("a", 9, "invalid_json"), Problem("b", 10, "bad_value:ts")]
    assert format_problems(problems) == ["  a:2-4: invalid_json (3 lines)", "  a:9: invalid_json",
                                         "  b:10: bad_value:ts"]


# -- on the broker -----------------------------------------------------------------------------------
def test_bad_lines_are_reported_by_line_number_exit_non_zero_and_nothing_valid_is_lost(broker, topics, tmp_path):
    good = [search_event(f"ok-{i}", f"weather {i}", "SG", ts_ms=1796083200000 + i) for i in range(20)]
    bad = {
        3: b'{"event_id": "b-1", "ts": 1796083200000, "query": "' + SECRET.encode() + b'"',   # cut short
        7: orjson.dumps({"event_id": "b-2", "ts": 1796083200000, "query": SECRET, "country": "IDN"}),
        8: orjson.dumps({"event_id": "b-3", "ts": 1796083200000, "query": SECRET, "country": "IDN"}),
        15: b"\xff\xfe not utf-8",
        22: b"[]",
    }
    lines, valid = [], iter(good)
    for number in range(1, len(good) + len(bad) + 2):
        if number in bad:
            lines.append(bad[number])
        elif number == 12:
            lines.append(b"")                                   # blank: skipped, not an error
        else:
            lines.append(next(valid))
    path = write_lines(tmp_path / "mixed.jsonl", lines)

    result = run_cli("replay", str(path), "--max", bootstrap=broker.bootstrap, topics=topics)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert f"{path}:3: invalid_json" in out
    assert f"{path}:7-8: bad_value:country (2 lines)" in out
    assert f"{path}:15: invalid_utf8" in out
    assert f"{path}:22: not_an_object" in out
    assert "20 events sent" in out and "5 line(s) not sent" in out
    assert SECRET not in out + result.stderr

    records = consume(broker.bootstrap, topics.search, expect=len(good), timeout=30)
    assert sorted(r.value for r in records) == sorted(good)            # byte for byte, none lost, none extra
    assert {r.key for r in records} == {orjson.loads(g)["event_id"].encode() for g in good}

    as_json = run_cli("replay", str(path), "--json", bootstrap=broker.bootstrap, topics=topics)
    summary = orjson.loads(as_json.stdout)
    assert summary["sent"] == 20 and summary["exit_code"] == 1 and summary["blank_lines"] == 1
    assert [(m["line"], m["reason"]) for m in summary["malformed"]] == [
        (3, "invalid_json"), (7, "bad_value:country"), (8, "bad_value:country"), (15, "invalid_utf8"),
        (22, "not_an_object")]


def test_a_truncated_gzip_is_reported_where_it_breaks_and_what_came_before_is_sent(broker, topics, tmp_path):
    events = [search_event(f"z-{i}", "weather", "SG", ts_ms=1796083200000 + i) for i in range(2000)]
    whole = gzip.compress(b"\n".join(events) + b"\n")
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    result = run_cli("replay", str(path), "--json", bootstrap=broker.bootstrap, topics=topics)
    assert result.returncode == 1, result.stdout + result.stderr
    summary = orjson.loads(result.stdout)
    [problem] = summary["malformed"]
    assert problem["reason"] == "unreadable:EOFError" and problem["line"] == summary["sent"] + 1
    assert 0 < summary["sent"] < 2000
    records = consume(broker.bootstrap, topics.search, expect=summary["sent"], timeout=30)
    assert sorted(r.value for r in records) == sorted(events[: summary["sent"]])


def test_include_invalid_sends_bad_lines_too_and_reports_them(broker, topics, tmp_path):
    lines = [b"{oops", search_event("fine", "hello", "SG", ts_ms=1796083200000)]
    path = write_lines(tmp_path / "two.jsonl", lines)
    result = run_cli("replay", str(path), "--include-invalid", bootstrap=broker.bootstrap, topics=topics)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{path}:1: invalid_json" in result.stdout and "sent anyway" in result.stdout
    records = consume(broker.bootstrap, topics.search, expect=2, timeout=30)
    assert sorted(r.value for r in records) == sorted(lines)


def test_speed_follows_the_recorded_pace_from_gzip_on_stdin_and_keeps_timestamps(broker, topics):
    base = 1796083200000
    events = [search_event(f"s-{i}", "weather", "SG", ts_ms=base + i * 100) for i in range(21)]   # 2 s recorded
    data = gzip.compress(b"\n".join(events) + b"\n")
    result = run_cli("replay", "-", "--speed", "2", "--keep-timestamps", "--json", input=data,
                     bootstrap=broker.bootstrap, topics=topics)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["sent"] == 21
    assert 0.95 <= summary["elapsed_s"] <= 1.5, summary            # 2 s of traffic at 2x
    records = consume(broker.bootstrap, topics.search, expect=21, timeout=30)
    assert {r.key.decode(): r.timestamp for r in records} == {f"s-{i}": base + i * 100 for i in range(21)}


def test_limit_and_rate(broker, topics, tmp_path):
    path = write_lines(tmp_path / "many.jsonl", [search_event(f"r-{i}", "weather", "SG") for i in range(500)])
    started = time.monotonic()
    result = run_cli("replay", str(path), "--rate", "400", "--limit", "300", "--json",
                     bootstrap=broker.bootstrap, topics=topics)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["sent"] == 300 and summary["limit_reached"]
    assert abs(summary["achieved_rate"] - 400) / 400 < 0.1, summary
    assert time.monotonic() - started > 0.7


def test_usage_errors_exit_2(broker, topics, tmp_path):
    path = write_lines(tmp_path / "one.jsonl", [search_event("u", "x", "SG")])
    assert run_cli("replay", str(path), "--rate", "5", "--max", bootstrap=broker.bootstrap).returncode == 2
    assert run_cli("replay", str(tmp_path / "missing.jsonl"), bootstrap=broker.bootstrap).returncode == 2
    missing_topic = run_cli("replay", str(path), "--topic", "no-such-topic-here", bootstrap=broker.bootstrap,
                            timeout=60)
    assert missing_topic.returncode == 2 and "no-such-topic-here" in missing_topic.stderr


# -- acceptance -------------------------------------------------------------------------------------
def expected_notices(path) -> dict[str, str]:
    """search_event_id -> notice_id, computed with the worker's own configuration and code path."""
    config = load_runtime_config(Settings.from_env().config_path)
    expected = {}
    for raw in gzip.open(path) if str(path).endswith(".gz") else open(path, "rb"):
        event = parse_search_event(raw.rstrip(b"\n"))
        detection = config.detector.detect(event.query, event.country, event.locale)
        if detection.is_gbv:
            notice = choose_notice(config.registry, event, detection.category, config.detector_version,
                                   config.config_version)
            if notice is not None:
                expected[event.event_id] = notice.notice_id
    return expected


@pytest.mark.slow
def test_100k_generated_events_at_2000_per_second_through_a_worker_then_capture(broker, topics, start_worker,
                                                                                 tmp_path):
    events = tmp_path / "generated.jsonl.gz"
    generated = run_cli("generate", "--events", "100000", "--seed", "2026", "--out", str(events))
    assert generated.returncode == 0, generated.stderr
    expected = expected_notices(events)
    assert 1000 < len(expected) < 4000               # ~2% GBV by default

    start_worker()
    result = run_cli("replay", str(events), "--rate", "2000", "--json", bootstrap=broker.bootstrap, topics=topics,
                     timeout=150)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = orjson.loads(result.stdout)
    print(f"replay: sent={summary['sent']} elapsed={summary['elapsed_s']}s achieved={summary['achieved_rate']}/s")
    assert summary["sent"] == 100_000
    assert abs(summary["achieved_rate"] - 2000) / 2000 <= 0.10

    notices = consume(broker.bootstrap, topics.notices, expect=len(expected), timeout=90)
    got = {}
    for record in notices:
        notice = record.json()
        assert notice["search_event_id"] not in got, "duplicate notice"
        got[notice["search_event_id"]] = notice["notice_id"]
    assert got == expected                            # every GBV event has its notice, nothing else
    print(f"notices: {len(notices)} for {len(expected)} GBV events (worker's detector)")

    captured_path = tmp_path / "notices.jsonl"
    captured = run_cli("capture", topics.notices, "--out", str(captured_path), "--from-beginning",
                       bootstrap=broker.bootstrap)
    assert captured.returncode == 0, captured.stderr
    rows = [orjson.loads(x) for x in captured_path.read_bytes().splitlines()]
    assert {(r["partition"], r["offset"]): (r["key"], r["value"], r["timestamp"]) for r in rows} == {
        (n.partition, n.offset): (n.key.decode(), n.json(), n.timestamp) for n in notices}
    assert len(rows) == len(notices)
