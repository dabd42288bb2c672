"""`gbv-worker tail`: readable notices and dead letters, never a query or a dead letter's original."""

from __future__ import annotations

import base64
import time

import orjson

from traffic_helpers import popen_cli, run_cli
from worker.events import encode_dead_letter, notice_event_id
from worker.testing import produce, search_event
from worker.traffic.tail import Style, format_record

SECRET = "suami-secret-query"
PLAIN = Style(False)


def notice(search_id: str = "e-1") -> bytes:
    return orjson.dumps({
        "schema": "notice-display/v1", "notice_event_id": notice_event_id(search_id, "ID.domestic_violence.id"),
        "search_event_id": search_id, "ts": "2026-12-01T00:00:01.500Z", "search_ts": "2026-12-01T00:00:00.000Z",
        "country": "ID", "language": "id", "category": "domestic_violence", "notice_id": "ID.domestic_violence.id",
        "title": "Kamu tidak sendiri. Bantuan tersedia.", "body": "...",
        "hotlines": [{"id": "sapa129", "name": "SAPA 129", "organisation": "KemenPPPA",
                      "channels": {"phone": "129"}, "open_now": True, "hours": "24/7", "free": True,
                      "languages": ["id"]},
                     {"id": "other", "name": "Other line", "organisation": "X", "channels": {"email": "a@b.c"},
                      "open_now": None, "hours": "unknown", "free": None, "languages": ["id"]}],
        "detector_version": "det-x", "config_version": "cfg-y", "session_id": "sess-private"})


def dead_letter() -> bytes:
    original = search_event("e-2", SECRET, "ID")
    return encode_dead_letter("bad_value:ts", "search-events", 2, 1841, original, 1796083200000)


def test_a_notice_reads_as_country_category_title_and_ordered_hotlines():
    text = format_record(3, 7, 1796083201500, notice(), PLAIN)
    lines = text.splitlines()
    assert lines[0].startswith("2026-12-01 00:00:01Z  NOTICE  ID  domestic_violence  ID.domestic_violence.id  "
                               "search e-1")
    assert "shown 1.5 s later" in lines[0] and lines[0].endswith("p3@7")
    assert lines[1].strip() == "Kamu tidak sendiri. Bantuan tersedia."
    assert lines[2].strip().startswith("1. SAPA 129  [open; 24/7]  phone 129")
    assert lines[3].strip().startswith("2. Other line  [hours unknown; unknown]")
    assert "sess-private" not in text                      # the session id is not shown either


def test_a_dead_letter_shows_reason_and_source_but_never_the_original():
    letter = dead_letter()
    text = format_record(0, 5, 1796083200000, letter, PLAIN)
    assert "DEAD LETTER  bad_value:ts  from search-events[2]@1841" in text
    assert "not shown" in text
    original_b64 = orjson.loads(letter)["original"]
    assert SECRET not in text and original_b64 not in text
    assert f"{len(base64.b64decode(original_b64)):,} bytes" in text


def test_other_records_never_show_content():
    search = format_record(0, 1, 1796083200000, search_event("e-3", SECRET, "ID", locale="id-ID"), PLAIN)
    assert "SEARCH  ID  id-ID  event e-3" in search and SECRET not in search
    other = format_record(0, 2, 1796083200000, SECRET.encode(), PLAIN)
    assert SECRET not in other and "not shown" in other
    assert "TOMBSTONE" in format_record(0, 3, 1796083200000, None, PLAIN)


def test_colour_only_when_asked():
    assert "\x1b[" in format_record(0, 1, 1796083200000, notice(), Style(True))
    assert "\x1b[" not in format_record(0, 1, 1796083200000, notice(), PLAIN)


def test_tail_from_the_beginning_on_the_broker(broker, topics):
    produce(broker.bootstrap, topics.notices, [notice("b-1"), dead_letter()])
    result = run_cli("tail", topics.notices, "--from-beginning", "--limit", "2", bootstrap=broker.bootstrap,
                     timeout=60)
    assert result.returncode == 0, result.stderr
    assert "NOTICE  ID  domestic_violence" in result.stdout and "search b-1" in result.stdout
    assert "DEAD LETTER  bad_value:ts" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert "\x1b[" not in result.stdout                    # not a terminal: no colour codes


def test_tail_follows_new_records_live(broker, topics):
    # before the tail, and batched (Tansu's ListOffsets undercounts batches): never shown
    produce(broker.bootstrap, topics.notices, [notice("old")] * 30)
    process = popen_cli("tail", topics.notices, "--limit", "1", bootstrap=broker.bootstrap)
    try:
        deadline = time.monotonic() + 30
        header = b""
        while b"following" not in header and time.monotonic() < deadline:
            header += process.stderr.readline()
        assert b"following" in header, header
        produce(broker.bootstrap, topics.notices, [notice("new")])
        stdout, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert b"search new" in stdout and b"search old" not in stdout


def test_a_missing_topic_is_an_error(broker):
    result = run_cli("tail", "no-such-topic-for-tail", "--limit", "1", bootstrap=broker.bootstrap, timeout=60)
    assert result.returncode == 2 and "not found" in result.stderr
