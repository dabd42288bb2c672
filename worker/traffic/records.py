"""The JSONL files the traffic tools read and write, in one place.

Input lines (`replay`, `diff`) are either

- a search event, one JSON object per line (the topic's own format), or
- a captured record, as written by `capture`:

  ```json
  {"topic": "search-events", "partition": 2, "offset": 1841, "timestamp": 1795806900000,
   "key": "9a1f-3c", "value": {"event_id": "9a1f-3c", "...": "..."}}
  ```

  `value` holds a JSON value parsed (so the file stays readable and `jq`-friendly);
  a value that is not JSON is kept as `value_text` (UTF-8) or `value_b64` (anything
  else), a key that is not UTF-8 as `key_b64`, and a tombstone as `"tombstone": true`.

Files may be gzip-compressed (recognised by content, not by name); `-` is stdin.
Nothing here logs or returns query text: problems are reason codes.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import orjson

GZIP_MAGIC = b"\x1f\x8b"
CAPTURE_KEYS = ("value", "value_text", "value_b64", "tombstone")


class LineError(Exception):
    """A line that is not a replayable record; `reason` is a short code."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class InputLine:
    source: str        # file name as given ("-" shown as "<stdin>")
    number: int        # 1-based line number
    raw: bytes         # the line without its line ending


@dataclass(frozen=True, slots=True)
class Decoded:
    """The record a line stands for: what `replay` would produce."""

    value: bytes | None
    key: bytes | None          # None: no key carried by the line
    timestamp_ms: int | None   # the captured record's timestamp, if any
    captured: bool


# -- reading ---------------------------------------------------------------------------------
def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def is_regular_file(path: str) -> bool:
    if path == "-":
        try:
            return os.path.isfile(f"/proc/self/fd/{sys.stdin.fileno()}") and not sys.stdin.isatty()
        except (OSError, ValueError):
            return False
    return os.path.isfile(path)


def open_binary(path: str) -> IO[bytes]:
    """A binary reader for a path or `-`, transparently un-gzipped."""
    raw: IO[bytes]
    if path == "-":
        raw = sys.stdin.buffer
        buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    else:
        buffered = open(path, "rb")
    head = buffered.peek(2)[:2] if hasattr(buffered, "peek") else b""
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


def count_lines(path: str) -> int | None:
    """Number of non-blank lines of a regular file (for progress and ETA); None for pipes."""
    if path == "-" or not is_regular_file(path):
        return None
    n = 0
    try:
        with open_binary(path) as handle:
            for line in handle:
                if line.strip():
                    n += 1
    except (OSError, EOFError):      # a truncated gzip: the reader reports it where it happens
        pass
    return n


def iter_lines(path: str) -> Iterator[InputLine]:
    """Every line of a file (blank ones included, so numbers match an editor's)."""
    name = display_name(path)
    handle = open_binary(path)
    try:
        for number, line in enumerate(handle, 1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            yield InputLine(name, number, line.rstrip(b"\r\n"))
    finally:
        if path != "-":
            handle.close()


# -- decoding ------------------------------------------------------------------------------
def decode_line(raw: bytes) -> Decoded:
    """A line -> the record to produce. Raises LineError for a line that is not JSON or a
    captured record with a broken envelope; the event itself is validated by the caller
    with `parse_search_event`."""
    stripped = raw.strip()
    try:
        obj = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        try:
            stripped.decode("utf-8")
        except UnicodeDecodeError:
            raise LineError("invalid_utf8") from None
        raise LineError("invalid_json") from None
    if isinstance(obj, dict) and "offset" in obj and "partition" in obj and any(k in obj for k in CAPTURE_KEYS):
        return _decode_captured(obj)
    return Decoded(stripped, None, None, False)


def _decode_captured(obj: dict) -> Decoded:
    if obj.get("tombstone") is True:
        value = None
    elif "value" in obj:
        value = orjson.dumps(obj["value"])
    elif "value_text" in obj:
        if not isinstance(obj["value_text"], str):
            raise LineError("bad_record:value_text")
        value = obj["value_text"].encode("utf-8")
    else:
        try:
            value = base64.b64decode(obj["value_b64"], validate=True)
        except (TypeError, ValueError):
            raise LineError("bad_record:value_b64") from None
    key = None
    if obj.get("key") is not None:
        if not isinstance(obj["key"], str):
            raise LineError("bad_record:key")
        key = obj["key"].encode("utf-8")
    elif obj.get("key_b64") is not None:
        try:
            key = base64.b64decode(obj["key_b64"], validate=True)
        except (TypeError, ValueError):
            raise LineError("bad_record:key_b64") from None
    timestamp = obj.get("timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int)):
        raise LineError("bad_record:timestamp")
    return Decoded(value, key, timestamp, True)


# -- writing (capture) ---------------------------------------------------------------------------
def encode_record(topic: str, partition: int, offset: int, timestamp_ms: int, key: bytes | None,
                  value: bytes | None) -> bytes:
    """One captured record as a JSONL line (with its newline)."""
    out: dict = {"topic": topic, "partition": partition, "offset": offset, "timestamp": timestamp_ms}
    if key is None:
        out["key"] = None
    else:
        try:
            out["key"] = key.decode("utf-8")
        except UnicodeDecodeError:
            out["key_b64"] = base64.b64encode(key).decode("ascii")
    if value is None:
        out["tombstone"] = True
    else:
        try:
            out["value"] = orjson.loads(value)
        except orjson.JSONDecodeError:
            try:
                out["value_text"] = value.decode("utf-8")
            except UnicodeDecodeError:
                out["value_b64"] = base64.b64encode(value).decode("ascii")
    return orjson.dumps(out) + b"\n"


def open_output(path: str) -> IO[bytes]:
    """A binary writer for a path or `-`; gzip when the name ends in .gz."""
    if path == "-":
        return sys.stdout.buffer
    target = Path(path)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    if path.endswith(".gz"):
        return gzip.open(path, "wb", compresslevel=5)  # type: ignore[return-value]
    return open(path, "wb")
