"""Event contracts: the search event we read, the notice display and dead letter we write.

Pure code. The one parser of search events lives here; everything that reads search
events (the stream, replay, diff, the bare-loop benchmark) calls `parse_search_event`.

Privacy: an `InvalidEvent` carries only a short reason code, never any part of the
input, so exceptions, logs and dead-letter reasons cannot leak query text.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import orjson

NOTICE_SCHEMA = "notice-display/v1"
DEAD_LETTER_SCHEMA = "dead-letter/v1"
# Namespace of deterministic notice ids: uuid5(NOTICE_NAMESPACE, "<search_event_id>/<notice_id>").
NOTICE_NAMESPACE = uuid.UUID("6f1c2a52-3d0e-5b8e-9a51-2f4d1c0b7e11")

DEFAULT_MAX_EVENT_BYTES = 64 * 1024
MAX_QUERY_CHARS = 2048           # a search box never sends more; longer is hostile input
MAX_ID_CHARS = 256
# Plausible search times: 2000-01-01 .. 2100-01-01 in epoch milliseconds.
MIN_TS_MS = 946_684_800_000
MAX_TS_MS = 4_102_444_800_000


class InvalidEvent(Exception):
    """A search event that cannot be processed. `reason` is a short code, e.g. `missing_field:query`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class SearchEvent:
    event_id: str
    ts_ms: int
    query: str
    country: str            # upper-case ISO 3166-1 alpha-2
    locale: str | None = None
    session_id: str | None = None
    surface: str | None = None


def _optional_str(obj: dict, name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent(f"bad_type:{name}")
    if len(value) > MAX_ID_CHARS:
        raise InvalidEvent(f"bad_value:{name}")
    return value


def parse_ts(value: Any) -> int:
    """RFC 3339 string or epoch milliseconds -> epoch milliseconds."""
    if isinstance(value, bool):
        raise InvalidEvent("bad_type:ts")
    if isinstance(value, int):
        ts_ms = value
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidEvent("bad_value:ts")
        ts_ms = int(value)
    elif isinstance(value, str):
        if len(value) > 64:
            raise InvalidEvent("bad_value:ts")
        try:
            parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            raise InvalidEvent("bad_value:ts") from None
        if parsed.tzinfo is None:          # RFC 3339 requires an offset
            raise InvalidEvent("bad_value:ts")
        ts_ms = int(parsed.timestamp() * 1000)
    else:
        raise InvalidEvent("bad_type:ts")
    if not MIN_TS_MS <= ts_ms < MAX_TS_MS:
        raise InvalidEvent("bad_value:ts")
    return ts_ms


def parse_search_event(raw: bytes, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> SearchEvent:
    """Validate one search event. Raises InvalidEvent with a reason code."""
    if raw is None:
        raise InvalidEvent("empty")
    if len(raw) > max_bytes:
        raise InvalidEvent("too_large")
    if not raw:
        raise InvalidEvent("empty")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson reports invalid UTF-8 and invalid JSON alike; tell them apart.
        try:
            bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("invalid_utf8") from None
        raise InvalidEvent("invalid_json") from None
    if not isinstance(obj, dict):
        raise InvalidEvent("not_an_object")

    event_id = obj.get("event_id")
    if event_id is None:
        raise InvalidEvent("missing_field:event_id")
    if not isinstance(event_id, str):
        raise InvalidEvent("bad_type:event_id")
    if not event_id or len(event_id) > MAX_ID_CHARS:
        raise InvalidEvent("bad_value:event_id")

    if "ts" not in obj or obj["ts"] is None:
        raise InvalidEvent("missing_field:ts")
    ts_ms = parse_ts(obj["ts"])

    query = obj.get("query")
    if query is None:
        raise InvalidEvent("missing_field:query")
    if not isinstance(query, str):
        raise InvalidEvent("bad_type:query")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidEvent("bad_value:query")

    country = obj.get("country")
    if country is None:
        raise InvalidEvent("missing_field:country")
    if not isinstance(country, str):
        raise InvalidEvent("bad_type:country")
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise InvalidEvent("bad_value:country")

    return SearchEvent(
        event_id=event_id,
        ts_ms=ts_ms,
        query=query,
        country=country.upper(),
        locale=_optional_str(obj, "locale"),
        session_id=_optional_str(obj, "session_id"),
        surface=_optional_str(obj, "surface"),
    )


def rfc3339(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def notice_event_id(search_event_id: str, notice_id: str) -> str:
    """Deterministic: a redelivered search event yields the same notice id."""
    return str(uuid.uuid5(NOTICE_NAMESPACE, f"{search_event_id}/{notice_id}"))


@dataclass(frozen=True, slots=True)
class NoticeDisplay:
    """What the platform shows: built by notice selection, encoded here."""

    search_event_id: str
    search_ts_ms: int
    country: str
    language: str
    category: str
    notice_id: str
    title: str
    body: str
    hotlines: Sequence[dict]
    detector_version: str
    config_version: str
    session_id: str | None = None

    @property
    def notice_event_id(self) -> str:
        return notice_event_id(self.search_event_id, self.notice_id)

    def to_dict(self, now_ms: int) -> dict:
        out = {
            "schema": NOTICE_SCHEMA,
            "notice_event_id": self.notice_event_id,
            "search_event_id": self.search_event_id,
            "ts": rfc3339(now_ms),
            "search_ts": rfc3339(self.search_ts_ms),
            "country": self.country,
            "language": self.language,
            "category": self.category,
            "notice_id": self.notice_id,
            "title": self.title,
            "body": self.body,
            "hotlines": list(self.hotlines),
            "detector_version": self.detector_version,
            "config_version": self.config_version,
        }
        if self.session_id is not None:
            out["session_id"] = self.session_id
        return out

    def encode(self, now_ms: int) -> bytes:
        return orjson.dumps(self.to_dict(now_ms))


def encode_dead_letter(reason: str, topic: str, partition: int, offset: int, original: bytes | None,
                       now_ms: int) -> bytes:
    return orjson.dumps({
        "schema": DEAD_LETTER_SCHEMA,
        "reason": reason,
        "source": {"topic": topic, "partition": partition, "offset": offset},
        "original": base64.b64encode(original or b"").decode("ascii"),
        "ts": rfc3339(now_ms),
    })
