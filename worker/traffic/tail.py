"""`gbv-worker tail`: a readable live view of the notice or dead-letter topic for a person
at a terminal.

Privacy: a notice never holds the query; a dead letter holds the original record
(base64), which may hold one, so tail shows a dead letter's reason, source and size
and never decodes the original. A search event (someone tailing the search topic)
is shown without its query, and any other record only by its size.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timezone
from typing import IO, Callable

import orjson

from worker.events import DEAD_LETTER_SCHEMA, NOTICE_SCHEMA
from worker.traffic.capture import TopicMissing, topic_partitions, true_end_offsets  # noqa: F401 (TopicMissing re-exported)

STATE = {True: "open", False: "closed", None: "hours unknown"}


class Style:
    """ANSI styling, or none (pipes, files, NO_COLOR)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)


def use_color(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _clock(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _parse_ms(value) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def format_notice(notice: dict, style: Style) -> list[str]:
    head = (f"{style.green(style.bold('NOTICE'))}  {notice.get('country', '?')}  "
            f"{style.bold(str(notice.get('category', '?')))}  {notice.get('notice_id', '?')}  "
            f"search {notice.get('search_event_id', '?')}")
    searched, shown = _parse_ms(notice.get("search_ts")), _parse_ms(notice.get("ts"))
    if searched is not None:
        after = (shown - searched) / 1000 if shown is not None else None
        delay = f", shown {after:,.1f} s later" if after is not None and 0 <= after < 3600 else ""
        head += style.dim(f"  (searched {_clock(searched)}{delay})")
    lines = [head, f"    {notice.get('title', '')}"]
    for i, line in enumerate(notice.get("hotlines") or [], 1):
        if not isinstance(line, dict):
            continue
        state = STATE.get(line.get("open_now"), "hours unknown")
        state = style.green(state) if line.get("open_now") is True else style.yellow(state)
        channels = ", ".join(f"{k} {v}" for k, v in (line.get("channels") or {}).items())
        lines.append(f"    {i}. {line.get('name', line.get('id', '?'))}  [{state}; {line.get('hours', '?')}]  "
                     f"{channels}")
    versions = f"config {notice.get('config_version', '?')}, detector {notice.get('detector_version', '?')}"
    lines.append(style.dim(f"    language {notice.get('language', '?')}; {versions}"))
    return lines


def format_dead_letter(letter: dict, style: Style) -> list[str]:
    source = letter.get("source") or {}
    original = letter.get("original")
    size = (len(original) * 3 // 4 - original[-2:].count("=")) if isinstance(original, str) else 0
    return [f"{style.red(style.bold('DEAD LETTER'))}  {style.bold(str(letter.get('reason', '?')))}  "
            f"from {source.get('topic', '?')}[{source.get('partition', '?')}]@{source.get('offset', '?')}  "
            + style.dim(f"(original: {size:,} bytes, not shown)")]


def format_record(partition: int, offset: int, timestamp_ms: int, value: bytes | None, style: Style) -> str:
    """One record as a few readable lines (never any query text)."""
    where = style.dim(f"  p{partition}@{offset}")
    prefix = f"{style.dim(_clock(timestamp_ms))}  "
    if value is None:
        return prefix + "TOMBSTONE" + where
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        obj = None
    if isinstance(obj, dict) and obj.get("schema") == NOTICE_SCHEMA:
        lines = format_notice(obj, style)
    elif isinstance(obj, dict) and obj.get("schema") == DEAD_LETTER_SCHEMA:
        lines = format_dead_letter(obj, style)
    elif isinstance(obj, dict) and "query" in obj and "event_id" in obj:
        query = obj.get("query")
        size = f"{len(query):,} characters" if isinstance(query, str) else "not a string"
        lines = [f"{style.bold('SEARCH')}  {obj.get('country', '?')}  {obj.get('locale') or '-'}  "
                 f"event {obj.get('event_id')}  " + style.dim(f"(query: {size}, not shown)")]
    else:
        lines = [f"RECORD  {len(value):,} bytes " + style.dim("(not a notice or dead letter; not shown)")]
    lines[0] = prefix + lines[0] + where
    return "\n".join(lines)


async def tail(topic: str, *, bootstrap: str, security: dict | None = None, limit: int | None = None,
               from_beginning: bool = False, out: IO[str] | None = None, color: bool | None = None,
               stop: asyncio.Event | None = None, on_ready: Callable[[int], None] | None = None,
               metadata_timeout_s: float = 20.0) -> int:
    """Print records of `topic` as they arrive until `limit` records or `stop`. Returns the count.
    `on_ready(partitions)` is called once the consumer is positioned: from then on nothing is missed."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    out = out or sys.stdout
    style = Style(use_color(out) if color is None else color)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                client_id="gbv-tail", fetch_max_wait_ms=200, **(security or {}))
    await consumer.start()
    shown = 0
    try:
        partitions = await topic_partitions(consumer, topic, metadata_timeout_s)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            ends = await true_end_offsets(consumer, tps)
            for tp in tps:
                consumer.seek(tp, ends[tp])
        for tp in tps:
            await consumer.position(tp)         # resolves the start offsets now, not at the first fetch
        if on_ready is not None:
            on_ready(len(tps))
        while limit is None or shown < limit:
            if stop is not None and stop.is_set():
                break
            batch = await consumer.getmany(timeout_ms=250, max_records=500)
            records = sorted((m for ms in batch.values() for m in ms), key=lambda m: (m.timestamp, m.partition,
                                                                                       m.offset))
            for m in records:
                if limit is not None and shown >= limit:
                    break
                out.write(format_record(m.partition, m.offset, m.timestamp, m.value, style) + "\n")
                shown += 1
            if records:
                out.flush()
    finally:
        await consumer.stop()
    return shown
