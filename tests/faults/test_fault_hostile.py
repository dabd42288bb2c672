"""Hostile input: property-based tests of the parser and the detector (arbitrary bytes, invalid
UTF-8, deep JSON nesting, numbers where strings belong, NUL, right-to-left and zero-width
characters, 1 MiB queries, far-future and negative timestamps, unknown countries), then
10,000 such messages end to end through one worker: it never crashes, and
produced = processed + dead-lettered."""

from __future__ import annotations

import os
import random
import re
import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from faultkit import committed, figures, live_config, metrics_totals, wait_group_done
from worker.events import (MAX_QUERY_CHARS, MAX_TS_MS, MIN_TS_MS, InvalidEvent, encode_dead_letter,
                           parse_search_event)
from worker.notices.selection import choose_notice
from worker.testing import WorkerProcess, consume, metric_value, produce

SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)
REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}(:[a-z][a-z0-9_]{0,31})?$")   # as worker.metrics counts them
HOSTILE_CHARS = ("\x00", "\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2069", "\u200b", "\u200c", "\u200d",
                 "\u2060", "\ufeff", "\u00ad", "\u0301", "\u0e31", "\u1100", "\U0001f600", "\ufffd", "\\", "\"")
COUNTRIES = ["ID", "MY", "PH", "TH", "SG", "KR", "VN", "ZZ", "US", "XK", "id", "Sg"]
NOW_MS = int(time.time() * 1000)
PROFILE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False)

hostile_text = st.text(alphabet=st.one_of(st.sampled_from(HOSTILE_CHARS), st.characters(exclude_categories=("Cs",))),
                       max_size=200)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 63), max_value=2 ** 64 - 1),
                      st.floats(allow_nan=False, allow_infinity=False), hostile_text)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(hostile_text, inner, max_size=4)),
                          max_leaves=20)


def pipeline(raw: bytes | None) -> str:
    """What the agent does with one record (worker/topology.py), minus the broker: 'notice',
    'no notice', or the dead-letter reason. Must never raise."""
    config = live_config()
    try:
        search = parse_search_event(raw)
    except InvalidEvent as bad:
        assert REASON.match(bad.reason), bad.reason
        encode_dead_letter(bad.reason, "t", 0, 0, raw, NOW_MS)
        return bad.reason
    detection = config.detector.detect(search.query, search.country, search.locale)
    assert isinstance(detection.is_gbv, bool)
    if not detection.is_gbv:
        return "no notice"
    notice = choose_notice(config.registry, search, detection.category, config.detector_version,
                           config.config_version)
    if notice is None:
        return "no notice"
    orjson.loads(notice.encode(NOW_MS))
    return "notice"


@PROFILE
@given(st.binary(max_size=512))
def test_arbitrary_bytes(raw):
    pipeline(raw)


@PROFILE
@given(st.binary(min_size=1, max_size=64).filter(lambda b: not _is_utf8(b)))
def test_invalid_utf8_inside_a_valid_looking_event(junk):
    raw = b'{"event_id":"e1","ts":%d,"country":"ID","query":"kdrt ' % NOW_MS + junk + b'"}'
    outcome = pipeline(raw)
    assert outcome in ("invalid_utf8", "invalid_json")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@PROFILE
@given(st.fixed_dictionaries({}, optional={
    "event_id": json_value, "ts": json_value, "query": json_value, "country": json_value,
    "locale": json_value, "session_id": json_value, "surface": json_value,
}), st.dictionaries(hostile_text, json_value, max_size=3))
def test_any_json_object_numbers_where_strings_belong(fields, extra):
    raw = orjson.dumps({**extra, **fields})
    outcome = pipeline(raw)
    if outcome in ("notice", "no notice"):
        search = parse_search_event(raw)
        assert len(search.country) == 2 and search.country.isascii() and search.country.isupper()
        assert MIN_TS_MS <= search.ts_ms < MAX_TS_MS and len(search.query) <= MAX_QUERY_CHARS


@PROFILE
@given(hostile_text, st.sampled_from(COUNTRIES), st.one_of(st.none(), hostile_text, st.sampled_from(
    ["id-ID", "th", "ko-KR", "fil-PH", "zh-Hant-SG", "vi_VN", "en", "xx-YY", ""])))
def test_detector_and_notice_choice_on_hostile_text(query, country, locale):
    raw = orjson.dumps({"event_id": "e1", "ts": NOW_MS, "query": query, "country": country, "locale": locale})
    assert pipeline(raw) in ("notice", "no notice", "bad_value:country")


@PROFILE
@given(st.sampled_from(["kdrt", "domestic violence hotline", "suami saya memukul saya", "남친한테 맞았어요",
                        "ถูกสามีทำร้าย", "chồng đánh vợ"]),
       st.lists(st.sampled_from(HOSTILE_CHARS), min_size=1, max_size=6), st.sampled_from(COUNTRIES))
def test_rtl_zero_width_and_nul_inside_gbv_queries(query, inserts, country):
    chars = list(query)
    for i, ch in enumerate(inserts):
        chars.insert((i * 7) % (len(chars) + 1), ch)
    pipeline(orjson.dumps({"event_id": "e1", "ts": NOW_MS, "query": "".join(chars), "country": country}))


@PROFILE
@given(st.one_of(st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
                 st.integers(min_value=MIN_TS_MS - 10, max_value=MIN_TS_MS + 10),
                 st.integers(min_value=MAX_TS_MS - 10, max_value=MAX_TS_MS + 10),
                 st.floats(), st.booleans(),
                 st.datetimes().map(lambda d: d.isoformat() + "Z"),
                 st.from_regex(r"-?\d{1,6}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", fullmatch=True)))
def test_far_future_negative_and_malformed_timestamps(ts):
    try:
        raw = orjson.dumps({"event_id": "e1", "ts": ts, "query": "kdrt", "country": "ID"})
    except orjson.JSONEncodeError:
        return
    outcome = pipeline(raw)
    if isinstance(ts, int) and not isinstance(ts, bool):
        assert (outcome not in ("bad_value:ts", "bad_type:ts")) == (MIN_TS_MS <= ts < MAX_TS_MS)


@pytest.mark.parametrize("depth", [10, 1000, 5000, 100_000])
def test_deep_nesting(depth):
    nested = b"[" * depth + b"]" * depth
    for raw in (nested, b'{"event_id":"e1","ts":%d,"country":"ID","query":"kdrt","x":' % NOW_MS + nested + b"}",
                b'{"event_id":"e1","ts":%d,"country":"ID","query":' % NOW_MS + nested + b"}"):
        pipeline(raw)


def test_one_mib_queries_are_bounded():
    """A search box never sends 1 MiB; the parser refuses it (too_large, or bad_value:query when the
    event limit is raised), and even the detector alone handles 1 MiB quickly."""
    config = live_config()
    mib = 1024 * 1024
    queries = {"repeated keyword": ("kdrt " * (mib // 5))[:mib], "zero-width": "\u200b" * mib,
               "rtl+nul": ("\u202e\x00" * (mib // 2)), "thai": ("ซ้อม" * (mib // 4)), "hangul": "맞" * mib,
               "one word": "a" * mib}
    timings = {}
    for name, query in queries.items():
        raw = orjson.dumps({"event_id": "e1", "ts": NOW_MS, "query": query, "country": "TH"})
        assert pipeline(raw) == "too_large"
        with pytest.raises(InvalidEvent, match="bad_value:query"):
            parse_search_event(raw, max_bytes=16 * mib)
        for country in ("ID", "TH", "KR", "ZZ"):
            started = time.perf_counter()
            config.detector.detect(query, country, None)
            timings[f"{name}/{country}"] = time.perf_counter() - started
    slowest = max(timings, key=timings.get)
    print(f"\n1 MiB detector timings: slowest {slowest} {timings[slowest]:.2f}s")
    assert timings[slowest] < 10.0


# -- end to end --------------------------------------------------------------------------------
def hostile_messages(n: int, seed: int) -> list[tuple[bytes | None, bytes | None]]:
    rng = random.Random(seed)
    mib = 1024 * 1024

    def text(k: int) -> str:
        return "".join(rng.choice(HOSTILE_CHARS + tuple("kdrt abuse 맞았어요 ทำร้าย đánh")) for _ in range(k))

    def event(**fields) -> bytes:
        body = {"event_id": f"h{rng.randrange(10 ** 9)}", "ts": NOW_MS, "query": text(rng.randrange(1, 40)),
                "country": rng.choice(COUNTRIES)}
        body.update(fields)
        return orjson.dumps(body)

    makers = [
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))),                # arbitrary bytes
        lambda: b'{"event_id":"x","ts":1,"query":"' + bytes([0xC3, 0x28, 0xFF]) + b'","country":"ID"}',
        lambda: b"[" * 3000 + b"]" * 3000,                                                     # deep nesting
        lambda: event(x=orjson.loads(b"[" * 200 + b"]" * 200)),
        lambda: event(query=rng.randrange(-10 ** 9, 10 ** 9)),                                  # numbers for strings
        lambda: event(country=rng.random()),
        lambda: event(event_id=rng.randrange(10 ** 6)),
        lambda: event(query="\x00" + text(20) + "\x00"),                                        # NUL
        lambda: event(query="\u202e" + "kdrt" + "\u202c" + "\u200b" * 10),                      # RTL, zero-width
        lambda: event(ts=rng.choice([-1, -(2 ** 62), 2 ** 62, 253402300800000, 0])),             # far future/negative
        lambda: event(ts=rng.choice(["9999-12-31T23:59:59Z", "-0001-01-01T00:00:00+00:00", "yesterday"])),
        lambda: event(country=rng.choice(["ZZ", "XX", "US", "ÄÖ", "I", "IDN", ""])),           # unknown countries
        lambda: event(query="kdrt", country=rng.choice(["ID", "id", "ZZ"])),
        lambda: event(query="domestic violence hotline", country="SG", locale=text(5)),
        lambda: event(query="domestic violence hotline", country=rng.choice(["US", "ZZ", "XK"])),  # no config
        lambda: b"",
        lambda: None,                                                                           # tombstone
    ]
    out: list[tuple[bytes | None, bytes | None]] = []
    for i in range(n - 6):
        key = rng.choice([None, b"", b"k%d" % rng.randrange(50), bytes(rng.randrange(256) for _ in range(8))])
        value = rng.choice(makers)()
        out.append((b"tombstone" if value is None and key is None else key, value))
    for i in range(6):                                                                          # 1 MiB queries
        out.insert(rng.randrange(len(out)), (b"big", event(query="kdrt " * (mib // 5))))
    return out


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ten_thousand_hostile_messages_end_to_end(broker, topics, tmp_path):
    started = time.monotonic()
    messages = hostile_messages(10_000, SEED)
    produce(broker.bootstrap, topics.search, messages)
    worker = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker.log").start(timeout=90)
    pid = worker.process.pid

    def alive() -> None:
        assert worker.process.poll() is None, f"worker died:\n{worker.log_tail()}"

    drain_s = wait_group_done(broker.bootstrap, topics.group, topics.search, len(messages), timeout=150, alive=alive)
    exposition = worker.scrape()
    m = metrics_totals(exposition)
    unsupported = metric_value(exposition, "gbv_unsupported_country_total")
    log = worker.log_text()
    assert worker.process.pid == pid and worker.stop() == 0
    dead = consume(broker.bootstrap, topics.dead_letters, expect=int(m["dead_lettered"]), timeout=60)
    notices = consume(broker.bootstrap, topics.notices, expect=int(m["notices"]), timeout=60) if m["notices"] else []
    reasons: dict[str, int] = {}
    for record in dead:
        reason = record.json()["reason"]
        reasons[reason] = reasons.get(reason, 0) + 1
    figures("hostile", seed=SEED, sent=len(messages), processed=int(m["processed"]),
            dead_lettered=int(m["dead_lettered"]), duplicates=len(dead) - int(m["dead_lettered"]),
            notices=len(notices), unsupported_country=int(unsupported),
            committed=committed(broker.bootstrap, topics.group, topics.search),
            agent_crashes=log.count("Crashed reason="), drain_s=drain_s, seconds=time.monotonic() - started,
            reasons=",".join(f"{k}:{v}" for k, v in sorted(reasons.items())))
    assert "Crashed reason=" not in log, "the agent crashed"
    assert int(m["processed"] + m["dead_lettered"]) == len(messages)
    assert len(dead) == int(m["dead_lettered"]) and len(notices) == int(m["notices"])
    assert all(REASON.match(r) for r in reasons)
