"""`gbv-worker capture`: dump a range of a topic to JSONL, one record per line with its
partition, offset, timestamp and key (the format `replay` and `diff` read back).

Where to start (per partition):
- from the beginning (the default);
- `since`: the first record whose timestamp is at or after the time (Kafka's
  offsets-for-times semantics). The broker's time index is asked first and its answer
  is checked against the records themselves (the record before the answer must be
  older, the answer itself not older). Tansu's time lookup is unreliable (it answers
  offset 0 whatever the time): when the answer does not check out, or the lookup
  fails, the partition is scanned from its first offset instead, and a note says so;
- `offsets`: explicit partition:offset pairs; only those partitions are captured; a
  negative offset counts back from the end.

Where to stop:
- neither `until` nor `limit`: at the end offsets as they were when the capture began
  (a snapshot of what is there now; taken from a fetch's high watermark, because
  Tansu's ListOffsets undercounts partitions written in multi-record batches);
- `until`: per partition at the first record whose timestamp is at or after the time;
  when the time is in the future the capture follows live records until then;
- `limit`: after that many records (following live records if needed).
Ctrl-C stops cleanly: what was captured is written.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from worker.events import InvalidEvent, parse_ts
from worker.traffic.progress import Progress
from worker.traffic.records import encode_record, open_output

_DURATION = re.compile(r"^(?P<sign>[+-]?)(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d|w)(?:\s+ago)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_time(value: str, now_ms: int | None = None) -> int:
    """RFC 3339 with offset, epoch milliseconds, `now`, or a duration: `15m` / `-15m` /
    `15m ago` is that long ago, `+15m` that long from now (units ms, s, m, h, d, w)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    text = value.strip().lower()
    if text == "now":
        return now_ms
    match = _DURATION.match(text)
    if match:
        amount = int(float(match["n"]) * _UNIT_MS[match["unit"]])
        return now_ms + amount if match["sign"] == "+" else now_ms - amount
    if text.isdigit():
        try:
            return parse_ts(int(text))
        except InvalidEvent:
            raise ValueError(f"{value!r}: epoch milliseconds between 2000 and 2100 expected") from None
    try:
        return parse_ts(value.strip())
    except InvalidEvent:
        raise ValueError(f"{value!r}: expected RFC 3339 with an offset (2026-11-28T10:00:00+07:00), "
                         "epoch milliseconds, 'now' or a duration like 15m, 2h, 1d") from None


def parse_partition_offset(value: str) -> tuple[int, int]:
    """`P:O` -> (partition, offset); O may be negative (counted back from the end)."""
    try:
        partition, offset = value.split(":", 1)
        return int(partition), int(offset)
    except ValueError:
        raise ValueError(f"{value!r}: expected PARTITION:OFFSET, e.g. 0:1200") from None


class TopicMissing(Exception):
    pass


async def true_end_offsets(consumer, tps: list, timeout_s: float = 10.0) -> dict:
    """End offsets the broker really has. Tansu answers ListOffsets(latest) with the last
    batch's base offset + 1, too low when a producer batched several records (kcat, the
    worker itself); the high watermark in a fetch response is right. So: seek to the listed
    ends, fetch once (records discarded), and take the larger of the two per partition.
    The consumer's positions are left undefined: seek afterwards."""
    listed = await consumer.end_offsets(tps)
    for tp in tps:
        consumer.seek(tp, listed[tp])
    deadline = time.monotonic() + timeout_s
    while any(consumer.highwater(tp) is None for tp in tps) and time.monotonic() < deadline:
        await consumer.getmany(*tps, timeout_ms=200, max_records=1)
    return {tp: max(listed[tp], consumer.highwater(tp) or 0) for tp in tps}


async def topic_partitions(consumer, topic: str, timeout_s: float = 20.0) -> set[int]:
    """The topic's partitions from the cluster's topic list (which never auto-creates a topic);
    TopicMissing when the broker does not have it."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if topic not in await consumer.topics():
                raise TopicMissing(topic)
            partitions = consumer.partitions_for_topic(topic)
        except TopicMissing:
            raise
        except Exception:  # noqa: BLE001 - broker not reachable yet: retry until the deadline
            partitions = None
        if partitions:
            return partitions
        if time.monotonic() > deadline:
            raise TopicMissing(topic)
        await asyncio.sleep(0.5)


@dataclass
class CaptureReport:
    topic: str
    out: str
    records: int = 0
    partitions: dict[int, dict] = field(default_factory=dict)   # p -> {"first": o, "last": o, "records": n}
    first_ts: int | None = None
    last_ts: int | None = None
    notes: list[str] = field(default_factory=list)
    exact_since: bool | None = None       # None: --since not used
    elapsed_s: float = 0.0
    interrupted: bool = False

    def as_dict(self) -> dict:
        return {"topic": self.topic, "out": self.out, "records": self.records,
                "partitions": {str(p): v for p, v in sorted(self.partitions.items())},
                "first_timestamp": self.first_ts, "last_timestamp": self.last_ts,
                "exact_since": self.exact_since, "notes": self.notes,
                "elapsed_s": round(self.elapsed_s, 3), "interrupted": self.interrupted}


def format_report(report: CaptureReport) -> str:
    from worker.events import rfc3339

    out = [f"capture: {report.records:,} records from {report.topic} written to {report.out} "
           f"in {report.elapsed_s:.2f} s."]
    for p, info in sorted(report.partitions.items()):
        if info["records"]:
            out.append(f"  partition {p}: offsets {info['first']}..{info['last']} ({info['records']:,} records)")
        else:
            out.append(f"  partition {p}: no records in range")
    if report.first_ts is not None and report.last_ts is not None:
        out.append(f"  record timestamps {rfc3339(report.first_ts)} .. {rfc3339(report.last_ts)}")
    if report.interrupted:
        out.append("  Interrupted: the file holds what was captured until then.")
    return "\n".join(out)


# states of a partition
VERIFY_PREV, VERIFY_AT, VERIFY_LAST, SCAN, COPY = "verify_prev", "verify_at", "verify_last", "scan", "copy"


@dataclass
class _Part:
    tp: object
    begin: int
    state: str
    start: int
    candidate: int | None = None      # the time index's answer (verify states)
    stop_at: int | None = None        # snapshot end offset (exclusive)
    done: bool = False
    position: int = 0


async def capture(topic: str, out: str, *, bootstrap: str, security: dict | None = None,
                  since_ms: int | None = None, offsets: dict[int, int] | None = None,
                  until_ms: int | None = None, limit: int | None = None,
                  progress: Progress | None = None, stop: asyncio.Event | None = None,
                  note: Callable[[str], None] | None = None, metadata_timeout_s: float = 20.0) -> CaptureReport:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    if since_ms is not None and offsets:
        raise ValueError("since and offsets are exclusive")
    report = CaptureReport(topic=topic, out="<stdout>" if out == "-" else out)

    def say(message: str) -> None:
        report.notes.append(message)
        if note:
            note(message)

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", client_id="gbv-capture",
                                fetch_max_wait_ms=250, **(security or {}))
    await consumer.start()
    started = time.monotonic()
    handle = None
    try:
        partitions = await topic_partitions(consumer, topic, metadata_timeout_s)
        numbers = sorted(partitions)
        if offsets:
            unknown = sorted(set(offsets) - set(numbers))
            if unknown:
                raise ValueError(f"{topic} has no partition {', '.join(map(str, unknown))} "
                                 f"(partitions: {', '.join(map(str, numbers))})")
            numbers = sorted(offsets)
        tps = [TopicPartition(topic, p) for p in numbers]
        consumer.assign(tps)
        begins = await consumer.beginning_offsets(tps)
        ends = await true_end_offsets(consumer, tps)
        snapshot = until_ms is None and limit is None

        parts: dict[int, _Part] = {}
        for tp in tps:
            begin, end = begins[tp], ends[tp]
            part = _Part(tp, begin, COPY, begin, stop_at=end if snapshot else None)
            if offsets:
                wanted = offsets[tp.partition]
                start = end + wanted if wanted < 0 else wanted
                if start < begin:
                    say(f"partition {tp.partition}: offset {start} is no longer on the broker; "
                        f"starting at {begin}, the first offset kept")
                    start = begin
                elif start > end:
                    say(f"partition {tp.partition}: offset {start} is past the end ({end}); waiting there")
                    start = end
                part.start = start
            parts[tp.partition] = part

        if since_ms is not None:
            report.exact_since = True
            answers: dict = {}
            try:
                answers = await consumer.offsets_for_times({tp: since_ms for tp in tps})
                lookup_failed = False
            except Exception as exc:  # noqa: BLE001 - any failure means: scan
                lookup_failed = True
                say(f"--since cannot be served exactly: the broker's time lookup failed "
                    f"({type(exc).__name__}); scanning every partition from its first offset instead")
                report.exact_since = False
            for tp in tps:
                part = parts[tp.partition]
                begin, end = begins[tp], ends[tp]
                if lookup_failed or end == begin:
                    part.state, part.start = SCAN, begin
                    continue
                answer = answers.get(tp)
                if answer is None:
                    part.state, part.start, part.candidate = VERIFY_LAST, end - 1, None
                elif answer.offset > begin:
                    part.state, part.start, part.candidate = VERIFY_PREV, answer.offset - 1, answer.offset
                else:
                    part.state, part.start, part.candidate = VERIFY_AT, answer.offset, answer.offset

        for part in parts.values():
            consumer.seek(part.tp, part.start)
            part.position = part.start
            if part.stop_at is not None and part.start >= part.stop_at and part.state in (COPY, SCAN):
                part.done = True
            report.partitions[part.tp.partition] = {"first": None, "last": None, "records": 0}

        handle = open_output(out)
        if progress:
            progress.start()
        last_flush = time.monotonic()
        last_end_check = 0.0

        def fallback(part: _Part, why: str) -> None:
            if report.exact_since:
                say("--since cannot be served exactly: the broker's time index gave offsets that do not "
                    "match the record timestamps; scanning from the first offset instead")
            report.exact_since = False
            say(f"partition {part.tp.partition}: {why}; scanning from offset {part.begin}")
            part.state = SCAN
            consumer.seek(part.tp, part.begin)
            part.position = part.begin

        while True:
            active = [p for p in parts.values() if not p.done]
            if not active or (limit is not None and report.records >= limit):
                break
            if stop is not None and stop.is_set():
                report.interrupted = True
                break
            batch = await consumer.getmany(*[p.tp for p in active], timeout_ms=200, max_records=5000)
            for tp, messages in batch.items():
                part = parts[tp.partition]
                for m in messages:
                    if part.done or (limit is not None and report.records >= limit):
                        break
                    part.position = m.offset + 1
                    if part.state == VERIFY_PREV:
                        if m.offset == part.candidate - 1 and m.timestamp < since_ms:
                            part.state = VERIFY_AT
                            continue
                        fallback(part, f"the time index answered offset {part.candidate}, but the record "
                                       "before it is not older than --since")
                        break
                    if part.state == VERIFY_AT:
                        if m.offset == part.candidate and m.timestamp >= since_ms:
                            part.state = COPY
                        else:
                            fallback(part, f"the time index answered offset {part.candidate}, whose record "
                                           "is older than --since")
                            break
                    elif part.state == VERIFY_LAST:
                        if m.timestamp < since_ms:
                            part.state = SCAN          # later records count from their first at/after --since
                            if part.stop_at is not None and part.position >= part.stop_at:
                                part.done = True
                            continue
                        fallback(part, "the time index found no record at or after --since, but the last "
                                       "record is not older")
                        break
                    elif part.state == SCAN:
                        if m.timestamp < since_ms:          # type: ignore[operator]
                            if part.stop_at is not None and part.position >= part.stop_at:
                                part.done = True
                                break
                            continue
                        part.state = COPY
                    # COPY
                    if part.stop_at is not None and m.offset >= part.stop_at:
                        part.done = True
                        break
                    if until_ms is not None and m.timestamp >= until_ms:
                        part.done = True
                        break
                    handle.write(encode_record(m.topic, m.partition, m.offset, m.timestamp, m.key, m.value))
                    report.records += 1
                    info = report.partitions[m.partition]
                    if info["first"] is None:
                        info["first"] = m.offset
                    info["last"] = m.offset
                    info["records"] += 1
                    report.first_ts = m.timestamp if report.first_ts is None else min(report.first_ts, m.timestamp)
                    report.last_ts = m.timestamp if report.last_ts is None else max(report.last_ts, m.timestamp)
                    if part.stop_at is not None and part.position >= part.stop_at:
                        part.done = True
                        break
            now = time.monotonic()
            if progress:
                progress.update(report.records, now)
            if now - last_flush > 1.0:
                handle.flush()
                last_flush = now
            # --until in the past: a partition that has caught up with its end is finished.
            if until_ms is not None and time.time() * 1000 >= until_ms + 500 and now - last_end_check > 1.0:
                last_end_check = now
                for p in parts.values():
                    highwater = consumer.highwater(p.tp)          # from the latest fetch response
                    if not p.done and p.state in (COPY, SCAN) and highwater is not None \
                            and p.position >= highwater:
                        p.done = True
    finally:
        if handle is not None:
            if out == "-":
                handle.flush()
            else:
                handle.close()
        if progress:
            progress.finish()
        report.elapsed_s = time.monotonic() - started
        await consumer.stop()
    return report
