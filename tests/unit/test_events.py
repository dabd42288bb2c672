"""The event contracts: the one search-event parser, notice displays, dead letters."""

import base64

import orjson
import pytest

from worker.events import (InvalidEvent, NoticeDisplay, encode_dead_letter, notice_event_id, parse_search_event,
                           parse_ts, rfc3339)


def event(**fields) -> bytes:
    body = {"event_id": "e1", "ts": 1795831200000, "query": "kdrt", "country": "id"}
    body.update(fields)
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


def test_valid_event_is_normalised():
    parsed = parse_search_event(event(locale="id-ID", session_id="s9", surface="explore"))
    assert parsed.event_id == "e1"
    assert parsed.country == "ID"
    assert parsed.ts_ms == 1795831200000
    assert (parsed.locale, parsed.session_id, parsed.surface) == ("id-ID", "s9", "explore")


@pytest.mark.parametrize("ts, expected", [
    ("2026-11-28T02:15:00+07:00", 1795806900000),
    ("2026-11-27T19:15:00Z", 1795806900000),
    ("2026-11-27T19:15:00.250Z", 1795806900250),
    (1795806900000, 1795806900000),
])
def test_ts_accepts_rfc3339_and_epoch_ms(ts, expected):
    assert parse_ts(ts) == expected


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "invalid_json"),
    (b"\xff\xfe{}", "invalid_utf8"),
    (b"", "empty"),
    (b"[1,2]", "not_an_object"),
    (b'"text"', "not_an_object"),
    (event(query=...), "missing_field:query"),
    (event(event_id=...), "missing_field:event_id"),
    (event(ts=...), "missing_field:ts"),
    (event(country=...), "missing_field:country"),
    (event(query=42), "bad_type:query"),
    (event(event_id=7), "bad_type:event_id"),
    (event(ts=True), "bad_type:ts"),
    (event(ts=[1]), "bad_type:ts"),
    (event(country=1), "bad_type:country"),
    (event(ts="yesterday"), "bad_value:ts"),
    (event(ts="2026-11-28T10:00:00"), "bad_value:ts"),      # no offset: not RFC 3339
    (event(ts=-5), "bad_value:ts"),
    (event(ts=99999999999999999), "bad_value:ts"),
    (event(country="Indonesia"), "bad_value:country"),
    (event(country="1D"), "bad_value:country"),
    (event(event_id=""), "bad_value:event_id"),
    (event(locale=5), "bad_type:locale"),
    (event(session_id={"a": 1}), "bad_type:session_id"),
    (event(query="x" * 5000), "bad_value:query"),
])
def test_each_bad_input_class_has_its_reason(raw, reason):
    with pytest.raises(InvalidEvent) as info:
        parse_search_event(raw)
    assert info.value.reason == reason


def test_oversized_message_is_too_large_before_parsing():
    with pytest.raises(InvalidEvent) as info:
        parse_search_event(b"{" + b" " * 70000 + b"}", max_bytes=65536)
    assert info.value.reason == "too_large"


def test_errors_never_carry_the_query_text():
    secret = "suami saya memukul saya rahasia"
    for raw in (event(query=secret, ts="nonsense"), event(query=secret, country="XYZ"),
                orjson.dumps({"query": secret})[:-1]):
        with pytest.raises(InvalidEvent) as info:
            parse_search_event(raw)
        assert secret not in str(info.value) and "rahasia" not in repr(info.value)


def test_notice_id_is_deterministic_and_distinct():
    a = notice_event_id("e1", "ID.domestic_violence.id")
    assert a == notice_event_id("e1", "ID.domestic_violence.id")
    assert a != notice_event_id("e2", "ID.domestic_violence.id")
    assert a != notice_event_id("e1", "ID.domestic_violence.en")


def test_notice_display_contract_has_no_query():
    notice = NoticeDisplay("e1", 1795806900000, "ID", "id", "domestic_violence", "ID.domestic_violence.id",
                           "Judul", "Isi", [{"id": "sapa129"}], "det-x", "cfg-y", session_id="s9")
    body = orjson.loads(notice.encode(1795806901000))
    assert body["schema"] == "notice-display/v1"
    assert body["notice_event_id"] == notice_event_id("e1", "ID.domestic_violence.id")
    assert body["search_ts"] == "2026-11-27T19:15:00.000Z" and body["ts"] == "2026-11-27T19:15:01.000Z"
    assert body["session_id"] == "s9"
    assert set(body) == {"schema", "notice_event_id", "search_event_id", "ts", "search_ts", "country", "language",
                         "category", "notice_id", "title", "body", "hotlines", "detector_version",
                         "config_version", "session_id"}
    no_session = NoticeDisplay("e1", 0, "ID", "id", "x", "n", "t", "b", [], "d", "c")
    assert "session_id" not in no_session.to_dict(0)


def test_dead_letter_keeps_original_bytes():
    original = b"\xff\x00 not json"
    body = orjson.loads(encode_dead_letter("invalid_utf8", "search-events", 3, 42, original, 1795806900000))
    assert body["schema"] == "dead-letter/v1"
    assert body["reason"] == "invalid_utf8"
    assert body["source"] == {"topic": "search-events", "partition": 3, "offset": 42}
    assert base64.b64decode(body["original"]) == original
    assert body["ts"] == rfc3339(1795806900000)
