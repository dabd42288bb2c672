"""The worker end to end on a real Tansu broker: samples in, notices and dead letters out."""

import base64
import collections
import json
from pathlib import Path

import orjson

from worker.events import notice_event_id
from worker.testing import consume, produce, search_event, wait_until

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "samples" / "search-events.jsonl"
EXPECTED = json.loads((ROOT / "config" / "samples" / "expected.json").read_text())


def test_samples_yield_one_notice_per_gbv_query_and_dead_letter_the_rest(broker, topics, start_worker):
    lines = [line for line in SAMPLES.read_bytes().split(b"\n") if line]
    worker = start_worker()
    produce(broker.bootstrap, topics.search, lines)

    expected_dead = sum(EXPECTED["dead_letters"].values())
    dead = consume(broker.bootstrap, topics.dead_letters, expect=expected_dead, timeout=60)
    notices = consume(broker.bootstrap, topics.notices, expect=len(EXPECTED["notices"]), timeout=60)
    print(f"sample lines={len(lines)} notices={len(notices)} dead_letters={len(dead)}")

    by_event = collections.Counter(n.json()["search_event_id"] for n in notices)
    assert sorted(by_event) == sorted(EXPECTED["notices"])
    assert set(by_event.values()) == {1}, f"duplicate notices: {by_event}"
    assert not set(by_event) & set(EXPECTED["no_notice"])

    reasons = collections.Counter(d.json()["reason"] for d in dead)
    assert reasons == collections.Counter(EXPECTED["dead_letters"])
    for record in dead:
        letter = record.json()
        original = base64.b64decode(letter["original"])
        assert original in lines                       # the original bytes, untouched
        assert letter["source"]["topic"] == topics.search

    for record in notices:
        notice = record.json()
        assert notice["notice_event_id"] == notice_event_id(notice["search_event_id"], notice["notice_id"])
        assert "query" not in notice
        assert notice["hotlines"] and all("open_now" in h for h in notice["hotlines"])
    metrics = worker.scrape()
    assert 'gbv_unsupported_country_total 1.0' in metrics      # s-017 comes from FR


def test_every_bad_input_class_is_dead_lettered_and_the_worker_keeps_going(broker, topics, start_worker):
    start_worker()
    bad = {
        "invalid_json": b'{"event_id": "x",',
        "invalid_utf8": b'{"event_id": "\xff\xfe"}',
        "not_an_object": b"[]",
        "missing_field:query": orjson.dumps({"event_id": "a", "ts": 1795806900000, "country": "ID"}),
        "bad_type:query": orjson.dumps({"event_id": "a", "ts": 1795806900000, "country": "ID", "query": 5}),
        "bad_type:ts": orjson.dumps({"event_id": "a", "ts": {"t": 1}, "country": "ID", "query": "kdrt"}),
        "bad_value:ts": orjson.dumps({"event_id": "a", "ts": "soon", "country": "ID", "query": "kdrt"}),
        "bad_value:country": orjson.dumps({"event_id": "a", "ts": 1795806900000, "country": "IDN", "query": "x"}),
        "too_large": search_event("big", "kdrt " * 20000, "ID"),
        "empty": b"",
    }
    good = search_event("after-bad", "domestic violence hotline", "SG")
    produce(broker.bootstrap, topics.search, [*bad.values(), good])
    dead = consume(broker.bootstrap, topics.dead_letters, expect=len(bad), timeout=60)
    got = {d.json()["reason"]: base64.b64decode(d.json()["original"]) for d in dead}
    assert got == bad
    notices = consume(broker.bootstrap, topics.notices, expect=1, timeout=60)
    assert [n.json()["search_event_id"] for n in notices] == ["after-bad"]


def test_notice_ids_are_deterministic_across_redelivery(broker, topics, start_worker, tmp_path):
    """The same search event processed twice (here: by two workers in different groups)
    yields the same notice_event_id, so downstream can de-duplicate."""
    produce(broker.bootstrap, topics.search, [search_event("same-id", "kdrt", "ID", locale="id-ID")])
    start_worker()
    first = consume(broker.bootstrap, topics.notices, expect=1, timeout=60)
    second_group = type(topics)(topics.search, topics.notices, topics.dead_letters, topics.group + "-b")
    start_worker(topic_set=second_group)
    wait_until(lambda: len(consume(broker.bootstrap, topics.notices, expect=2, timeout=5)) >= 2, 60,
               message="second notice")
    both = consume(broker.bootstrap, topics.notices, expect=2, timeout=10)
    ids = {n.json()["notice_event_id"] for n in both}
    assert len(both) == 2 and len(ids) == 1
    assert ids == {notice_event_id("same-id", first[0].json()["notice_id"])}
