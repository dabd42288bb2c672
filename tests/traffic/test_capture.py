"""`gbv-worker capture`: time parsing, the record format, ranges (beginning, --since with Tansu's
unreliable time index, --from-offset, --until, --limit), live following, and capture -> replay."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from traffic_helpers import popen_cli, run_cli
from worker.events import rfc3339
from worker.testing import consume, search_event
from worker.traffic.capture import parse_partition_offset, parse_time
from worker.traffic.records import decode_line, encode_record

NOW = 1_796_083_200_000
BASE = 1_790_000_000_000


# -- pure --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("now", NOW),
    ("15m", NOW - 15 * 60_000),
    ("-2h", NOW - 2 * 3_600_000),
    ("1d ago", NOW - 86_400_000),
    ("+30s", NOW + 30_000),
    ("1796083200000", 1796083200000),
    ("2026-12-01T07:00:00+07:00", NOW),
    ("2026-12-01T00:00:00Z", NOW),
])
def test_times(text, expected):
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-12-01T00:00:00", "12", "5x"])
def test_bad_times_are_refused_with_an_explanation(text):
    with pytest.raises(ValueError, match="expected|milliseconds"):
        parse_time(text, NOW)


def test_partition_offsets():
    assert parse_partition_offset("2:1200") == (2, 1200)
    assert parse_partition_offset("0:-10") == (0, -10)
    with pytest.raises(ValueError):
        parse_partition_offset("2")


@pytest.mark.parametrize("key, value", [
    (b"k", b'{"a": 1, "b": [true, null]}'),     # JSON: stored parsed
    (None, b"not json at all"),                  # text
    (b"\xff\x00", b"\x00\xff\xfe binary"),         # bytes
    (b"k", None),                                # tombstone
])
def test_records_round_trip(key, value):
    line = encode_record("t", 1, 42, BASE, key, value)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    row = orjson.loads(line)
    assert (row["topic"], row["partition"], row["offset"], row["timestamp"]) == ("t", 1, 42, BASE)
    decoded = decode_line(line.rstrip(b"\n"))
    assert decoded.key == key and decoded.timestamp_ms == BASE and decoded.captured
    if value is not None and value.startswith(b"{"):
        assert orjson.loads(decoded.value) == orjson.loads(value)
    else:
        assert decoded.value == value


# -- on the broker ------------------------------------------------------------------------------------
async def _produce_timed(bootstrap: str, topic: str, per_partition: int, partitions: int = 2) -> list[dict]:
    """Records with known timestamps: partition p, i-th record at BASE + (i * partitions + p) s."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    sent = []
    try:
        for i in range(per_partition):
            for p in range(partitions):
                ts = BASE + (i * partitions + p) * 1000
                value = search_event(f"t-{p}-{i}", "weather", "SG", ts_ms=ts)
                meta = await producer.send_and_wait(topic, value, key=f"t-{p}-{i}".encode(), partition=p,
                                                    timestamp_ms=ts)
                sent.append({"partition": p, "offset": meta.offset, "timestamp": ts, "key": f"t-{p}-{i}",
                             "value": orjson.loads(value)})
    finally:
        await producer.stop()
    return sent


def _rows(path) -> list[dict]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def _ids(rows) -> set[tuple[int, int]]:
    return {(r["partition"], r["offset"]) for r in rows}


@pytest.fixture
def timed(broker, topics):
    return asyncio.run(_produce_timed(broker.bootstrap, topics.search, per_partition=10))


def test_from_beginning_captures_everything_with_partition_offset_timestamp_key(broker, topics, timed, tmp_path):
    out = tmp_path / "all.jsonl"
    result = run_cli("capture", topics.search, "--out", str(out), bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    rows = _rows(out)
    assert len(rows) == 20
    by_id = {(r["partition"], r["offset"]): r for r in rows}
    for sent in timed:
        row = by_id[(sent["partition"], sent["offset"])]
        assert (row["timestamp"], row["key"], row["value"]) == (sent["timestamp"], sent["key"], sent["value"])
    assert "20 records" in result.stdout


def test_batched_records_are_all_captured(broker, topics, tmp_path):
    """Tansu answers ListOffsets(latest) with the last batch's base offset + 1: the snapshot
    end comes from the fetch high watermark instead, so batched records are not cut off."""
    from worker.testing import produce

    values = [search_event(f"b-{i}", "weather", "SG", ts_ms=BASE + i) for i in range(300)]
    produce(broker.bootstrap, topics.notices, values)                   # linger: many records per batch
    out = tmp_path / "batched.jsonl"
    result = run_cli("capture", topics.notices, "--out", str(out), bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    assert sorted(orjson.dumps(r["value"]) for r in _rows(out)) == sorted(values)


def test_since_is_exact_or_says_it_scanned(broker, topics, timed, tmp_path):
    since = BASE + 9_500                      # records from t = 10 s on
    out = tmp_path / "since.jsonl"
    result = run_cli("capture", topics.search, "--out", str(out), "--since", str(since), "--json",
                     bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    assert _ids(_rows(out)) == {(s["partition"], s["offset"]) for s in timed if s["timestamp"] >= since}
    summary = orjson.loads(result.stdout)
    if not summary["exact_since"]:            # Tansu: its time index answers offset 0 for any time
        assert "--since cannot be served exactly" in result.stderr
        assert "scanning" in result.stderr


def test_until_limit_and_from_offset(broker, topics, timed, tmp_path):
    out = tmp_path / "r.jsonl"
    until = BASE + 6_000
    result = run_cli("capture", topics.search, "--out", str(out), "--from-beginning", "--until", str(until),
                     bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    assert _ids(_rows(out)) == {(s["partition"], s["offset"]) for s in timed if s["timestamp"] < until}

    result = run_cli("capture", topics.search, "--out", str(out), "--limit", "3", bootstrap=broker.bootstrap)
    assert result.returncode == 0 and len(_rows(out)) == 3

    result = run_cli("capture", topics.search, "--out", str(out), "--from-offset", "1:7",
                     bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    assert _ids(_rows(out)) == {(1, 7), (1, 8), (1, 9)}

    result = run_cli("capture", topics.search, "--out", str(out), "--from-offset", "0:-2", "--from-offset", "1:-1",
                     bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    assert _ids(_rows(out)) == {(0, 8), (0, 9), (1, 9)}

    bad = run_cli("capture", topics.search, "--out", str(out), "--since", "1h", "--from-beginning",
                  bootstrap=broker.bootstrap)
    assert bad.returncode == 2
    assert run_cli("capture", "no-such-topic-xyz", "--out", str(out), bootstrap=broker.bootstrap,
                   timeout=60).returncode == 2


def test_capture_follows_live_records_until_the_given_time(broker, topics, tmp_path):
    out = tmp_path / "live.jsonl"
    # Absolute times, taken before the process starts: however long its start-up takes on a
    # loaded machine, the records produced below fall inside [since, until].
    start = time.time()
    since = rfc3339(int(start * 1000))
    until = rfc3339(int((start + 6) * 1000))
    process = popen_cli("capture", topics.search, "--out", str(out), "--since", since, "--until", until,
                        bootstrap=broker.bootstrap)
    try:
        time.sleep(1.5)                        # usually while the capture is already following live records
        values = [search_event(f"live-{i}", "weather", "SG") for i in range(3)]
        from worker.testing import produce
        produce(broker.bootstrap, topics.search, values)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert sorted(orjson.dumps(r["value"]) for r in _rows(out)) == sorted(values)


def test_a_captured_stream_replays_to_another_topic_with_its_keys(broker, topics, timed, tmp_path):
    out = tmp_path / "search.jsonl.gz"
    assert run_cli("capture", topics.search, "--out", str(out), bootstrap=broker.bootstrap).returncode == 0
    result = run_cli("replay", str(out), "--topic", topics.dead_letters, bootstrap=broker.bootstrap)
    assert result.returncode == 0, result.stdout + result.stderr
    replayed = consume(broker.bootstrap, topics.dead_letters, expect=20, timeout=30)
    assert sorted((r.key.decode(), r.json()["event_id"]) for r in replayed) == sorted(
        (s["key"], s["value"]["event_id"]) for s in timed)
