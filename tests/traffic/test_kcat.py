"""Interoperability with a real Kafka client: kcat (librdkafka) produces search events the worker
processes, and reads notices that parse as docs/events.md documents; replay and capture exchange
records with it.

kcat in Debian 12 (librdkafka 2.0.2) cannot parse Tansu's ApiVersions v3 response, so this module
runs its own Tansu broker whose advertised listener is a KafkaProxy port (worker/netproxy.py): every
client, the worker included, talks through the proxy.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import subprocess
import time
from datetime import datetime

import orjson
import pytest

from traffic_helpers import run_cli, write_lines
from worker.broker import broker_binary, create_topics, free_port, wait_for_port
from worker.events import notice_event_id, parse_search_event
from worker.netproxy import KafkaProxy
from worker.runtime import load_runtime_config
from worker.settings import Settings
from worker.testing import TopicSet, WorkerProcess

KCAT = shutil.which("kcat")
pytestmark = pytest.mark.skipif(KCAT is None, reason="kcat not installed (`make test` installs it)")
TS = 1795800000000          # 2026-11-25T14:40:00Z: before the notices are made


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """A Tansu broker advertising a KafkaProxy in front of it; yields the proxy's bootstrap address."""
    directory = tmp_path_factory.mktemp("kcat")
    port, proxy_port = free_port(), free_port()
    log = open(directory / "tansu.log", "ab")
    broker = subprocess.Popen([broker_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                               "--advertised-listener-url", f"tcp://127.0.0.1:{proxy_port}"],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proxy = None
    try:
        wait_for_port("127.0.0.1", port)
        proxy = KafkaProxy(proxy_port, port).start()
        yield f"127.0.0.1:{proxy_port}", directory
    finally:
        if proxy:
            proxy.stop()
        if broker.poll() is None:
            os.killpg(broker.pid, signal.SIGTERM)
            try:
                broker.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(broker.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def worker_on_proxy(proxied):
    bootstrap, directory = proxied
    topics = TopicSet.unique("kcat")
    asyncio.run(create_topics(bootstrap, [topics.search, topics.notices, topics.dead_letters], 4))
    worker = WorkerProcess(bootstrap, topics, directory / "worker.log").start()
    try:
        yield bootstrap, topics, worker
    finally:
        worker.kill()


def kcat_produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    data = b"".join(key + b"\t" + value + b"\n" for key, value in records)
    result = subprocess.run([KCAT, "-P", "-b", bootstrap, "-t", topic, "-K", "\t"], input=data,
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()


def kcat_consume(bootstrap: str, topic: str, expect: int, timeout: float = 60) -> list[dict]:
    """Read the topic from the beginning with `kcat -C -e -J` until `expect` records are there."""
    deadline = time.monotonic() + timeout
    records: list[dict] = []
    while time.monotonic() < deadline:
        result = subprocess.run([KCAT, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
                                capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr.decode()
        records = [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]
        if len(records) >= expect:
            return records
        time.sleep(0.5)
    raise AssertionError(f"{len(records)} of {expect} records on {topic} after {timeout}s")


def _rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def test_kcat_events_are_processed_and_kcat_reads_notices_as_documented(worker_on_proxy):
    bootstrap, topics, _ = worker_on_proxy
    queries = [("k-1", "suami saya suka mukul, lapor kemana", "ID", "id-ID"),
               ("k-2", "domestic violence hotline", "SG", None),
               ("k-3", "남편이 때려요 가정폭력 신고", "KR", "ko-KR"),
               ("k-4", "weather tomorrow", "SG", "en-SG"),
               ("k-5", "chồng đánh vợ", "VN", "vi-VN")]
    records = []
    for event_id, query, country, locale in queries:
        body = {"event_id": event_id, "ts": TS, "query": query, "country": country, "session_id": f"s-{event_id}"}
        if locale:
            body["locale"] = locale
        records.append((f"key-{event_id}".encode(), orjson.dumps(body)))
    records.append((b"key-bad", b'{"event_id": "k-6", "ts": '))          # dead-lettered
    config = load_runtime_config(Settings.from_env().config_path)
    expected = {eid for eid, q, cc, loc in queries if config.detector.detect(q, cc, loc).is_gbv}
    assert len(expected) >= 3                                            # the test means something

    kcat_produce(bootstrap, topics.search, records)
    notices = kcat_consume(bootstrap, topics.notices, expect=len(expected))
    assert {orjson.loads(n["payload"])["search_event_id"] for n in notices} == expected
    for record in notices:
        notice = orjson.loads(record["payload"])
        assert record["key"] == f"key-{notice['search_event_id']}"          # keyed like the search event
        assert notice["schema"] == "notice-display/v1"
        assert notice["notice_event_id"] == notice_event_id(notice["search_event_id"], notice["notice_id"])
        assert notice["notice_id"] == f"{notice['country']}.{notice['category']}.{notice['language']}"
        assert _rfc3339(notice["ts"]) >= _rfc3339(notice["search_ts"])
        assert _rfc3339(notice["search_ts"]).timestamp() * 1000 == TS
        assert notice["session_id"] == f"s-{notice['search_event_id']}"
        assert notice["title"] and notice["body"]
        assert notice["detector_version"].startswith("det-") and notice["config_version"].startswith("cfg-")
        assert "query" not in notice
        assert notice["hotlines"]
        for line in notice["hotlines"]:
            assert set(line) == {"id", "name", "organisation", "channels", "open_now", "hours", "free", "languages"}
            assert line["open_now"] in (True, False, None) and line["free"] in (True, False, None)

    dead = kcat_consume(bootstrap, topics.dead_letters, expect=1)
    letter = orjson.loads(dead[0]["payload"])
    assert letter["schema"] == "dead-letter/v1" and letter["reason"] == "invalid_json"
    assert base64.b64decode(letter["original"]) == b'{"event_id": "k-6", "ts": '
    assert letter["source"]["topic"] == topics.search


def test_replay_and_capture_exchange_records_with_kcat(worker_on_proxy, tmp_path):
    bootstrap, topics, _ = worker_on_proxy
    from_kcat, from_replay = TopicSet.unique("kx"), TopicSet.unique("ky")
    asyncio.run(create_topics(bootstrap, [from_kcat.search, from_replay.search], 2))
    events = [(f"ev-{i}".encode(), orjson.dumps({"event_id": f"ev-{i}", "ts": TS + i, "query": "weather",
                                                  "country": "SG"})) for i in range(10)]
    kcat_produce(bootstrap, from_kcat.search, events)

    captured = tmp_path / "kcat-topic.jsonl"
    result = run_cli("capture", from_kcat.search, "--out", str(captured), bootstrap=bootstrap)
    assert result.returncode == 0, result.stderr
    rows = [orjson.loads(x) for x in captured.read_bytes().splitlines()]
    assert sorted((r["key"], orjson.dumps(r["value"])) for r in rows) == sorted(
        (k.decode(), v) for k, v in events)

    replayed = run_cli("replay", str(captured), "--topic", from_replay.search, bootstrap=bootstrap)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    plain = write_lines(tmp_path / "plain.jsonl", [v for _, v in events])
    assert run_cli("replay", str(plain), "--topic", from_replay.search, bootstrap=bootstrap).returncode == 0
    read = kcat_consume(bootstrap, from_replay.search, expect=20)
    assert len(read) == 20
    for record in read:
        event = parse_search_event(record["payload"].encode())
        assert record["key"] == event.event_id                             # replay keys by event id
