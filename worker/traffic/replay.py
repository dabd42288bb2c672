"""`gbv-worker replay`: produce recorded search events to a topic, at a chosen pace.

Input: JSONL search events or `capture` records (see records.py), gzip or not, `-` for
stdin. Every line is validated with the worker's own parser (`parse_search_event`);
a line that is not JSON or not a valid search event is not sent (unless
`include_invalid`) and is reported by file and line number with its reason code.
The query text never appears in any output.

Pace: `rate` (events/s), `speed` (x the recorded pace, from the events' `ts`) or as fast
as the broker takes them. The pace is kept against a monotonic clock: event i is due at
start + i/rate (or start + (ts_i - ts_0)/speed); the loop sleeps only when it is ahead,
so timer jitter never accumulates. Every send is acknowledged before the run ends;
the achieved rate is events sent / wall time from the first send to the last ack.

Keys: the captured record's key, else the event's `event_id`. With `keep_timestamps`
the record timestamp is the event's `ts` (otherwise the producer's clock).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Iterable, Iterator

from worker.events import DEFAULT_MAX_EVENT_BYTES, InvalidEvent, parse_search_event
from worker.traffic.progress import Progress
from worker.traffic.records import (InputLine, LineError, count_lines, decode_line, display_name,
                                    is_regular_file, iter_lines)

MODES = ("max", "rate", "speed")
SLEEP_AHEAD_S = 0.002        # sleep only when at least this far ahead of schedule


@dataclass(frozen=True, slots=True)
class Problem:
    source: str
    line: int
    reason: str

    def as_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "reason": self.reason}


@dataclass
class ReplayReport:
    topic: str
    mode: str
    target_rate: float | None = None
    speed: float | None = None
    lines: int = 0                  # non-blank lines read
    blank: int = 0
    sent: int = 0                   # acknowledged by the broker
    malformed: list[Problem] = field(default_factory=list)       # not sent
    sent_invalid: list[Problem] = field(default_factory=list)    # sent anyway (include_invalid)
    failed: list[Problem] = field(default_factory=list)          # sent, not acknowledged
    elapsed_s: float = 0.0
    limit_reached: bool = False
    interrupted: bool = False

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Every line read was sent and acknowledged (invalid lines only when asked to)."""
        return not self.malformed and not self.failed and not self.interrupted

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 0 if self.complete else 1

    def as_dict(self) -> dict:
        return {
            "topic": self.topic, "mode": self.mode, "target_rate": self.target_rate, "speed": self.speed,
            "lines": self.lines, "blank_lines": self.blank, "sent": self.sent,
            "elapsed_s": round(self.elapsed_s, 4), "achieved_rate": round(self.achieved_rate, 2),
            "malformed": [p.as_dict() for p in self.malformed],
            "sent_invalid": [p.as_dict() for p in self.sent_invalid],
            "failed": [p.as_dict() for p in self.failed],
            "limit_reached": self.limit_reached, "interrupted": self.interrupted,
            "exit_code": self.exit_code,
        }


@dataclass(frozen=True, slots=True)
class Outgoing:
    key: bytes | None
    value: bytes | None
    ts_ms: int | None          # the event's ts (pace and --keep-timestamps); None if invalid


def prepare(line: InputLine, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> tuple[Outgoing, str | None]:
    """A line -> (what to send, None) or (what would be sent, reason it is malformed)."""
    try:
        decoded = decode_line(line.raw)
    except LineError as bad:
        return Outgoing(None, line.raw, None), bad.reason
    if decoded.value is None:
        return Outgoing(decoded.key, None, None), "empty"
    try:
        event = parse_search_event(decoded.value, max_event_bytes)
    except InvalidEvent as bad:
        return Outgoing(decoded.key, decoded.value, None), bad.reason
    return Outgoing(decoded.key or event.event_id.encode(), decoded.value, event.ts_ms), None


def group_problems(problems: Iterable[Problem]) -> list[tuple[str, int, int, str]]:
    """Consecutive lines of one file with one reason -> (source, first, last, reason)."""
    out: list[tuple[str, int, int, str]] = []
    for p in problems:
        if out and out[-1][0] == p.source and out[-1][3] == p.reason and out[-1][2] == p.line - 1:
            source, first, _, reason = out[-1]
            out[-1] = (source, first, p.line, reason)
        else:
            out.append((p.source, p.line, p.line, p.reason))
    return out


def format_problems(problems: Iterable[Problem]) -> list[str]:
    lines = []
    for source, first, last, reason in group_problems(problems):
        where = f"{source}:{first}" if first == last else f"{source}:{first}-{last}"
        count = "" if first == last else f" ({last - first + 1:,} lines)"
        lines.append(f"  {where}: {reason}{count}")
    return lines


def format_report(report: ReplayReport) -> str:
    if report.mode == "rate":
        pace = f"target {report.target_rate:,.0f}/s"
    elif report.mode == "speed":
        pace = f"{report.speed:g}x the recorded pace"
    else:
        pace = "as fast as the broker takes them"
    out = [f"replay: {report.sent:,} events sent to {report.topic} in {report.elapsed_s:.2f} s: "
           f"{report.achieved_rate:,.1f} events/s ({pace})."]
    if report.blank:
        out.append(f"  {report.blank:,} blank line(s) skipped.")
    if report.limit_reached:
        out.append("  Stopped at --limit.")
    if report.interrupted:
        out.append("  Interrupted: the rest of the input was not sent.")
    if report.malformed:
        out.append(f"{len(report.malformed):,} line(s) not sent (malformed):")
        out.extend(format_problems(report.malformed))
    if report.sent_invalid:
        out.append(f"{len(report.sent_invalid):,} invalid line(s) sent anyway (--include-invalid):")
        out.extend(format_problems(report.sent_invalid))
    if report.failed:
        out.append(f"{len(report.failed):,} event(s) not acknowledged by the broker:")
        out.extend(format_problems(report.failed))
    if report.complete:
        out.append("Every line was sent." if not report.limit_reached else "Every line read was sent.")
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """An input that could not be read to its end (a truncated gzip, an I/O error)."""

    source: str
    line: int          # the first line not read
    reason: str


READ_ERRORS = (OSError, EOFError, UnicodeError)


def lines_or_failure(path: str) -> Iterator[InputLine | ReadFailure]:
    """iter_lines, but a read error ends the file with a ReadFailure instead of an exception."""
    last = 0
    try:
        for line in iter_lines(path):
            last = line.number
            yield line
    except READ_ERRORS as exc:
        yield ReadFailure(display_name(path), last + 1, f"unreadable:{type(exc).__name__}")


async def _aiter_lines(paths: list[str]) -> AsyncIterator[InputLine | ReadFailure]:
    """Lines of every input in order; pipes are read in a thread so the loop never blocks."""
    for path in paths:
        if is_regular_file(path):
            for i, line in enumerate(lines_or_failure(path)):
                yield line
                if i % 2048 == 2047:
                    await asyncio.sleep(0)
            continue
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue(maxsize=4096)
        done = object()

        def pump(path: str = path) -> None:
            try:
                for line in lines_or_failure(path):
                    asyncio.run_coroutine_threadsafe(lines.put(line), loop).result()
                asyncio.run_coroutine_threadsafe(lines.put(done), loop).result()
            except BaseException as exc:  # noqa: BLE001 - handed to the loop, if it still runs
                if not loop.is_closed():  # (a replay stopped early leaves this thread behind: fine)
                    try:
                        asyncio.run_coroutine_threadsafe(lines.put(exc), loop)
                    except RuntimeError:
                        pass

        threading.Thread(target=pump, name="replay-reader", daemon=True).start()
        while True:
            item = await lines.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item


def producer_factory(bootstrap: str, security: dict | None = None, linger_ms: int = 5):
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False,
                            linger_ms=linger_ms, max_request_size=4 * 1024 * 1024,
                            client_id="gbv-replay", **(security or {}))


class TopicMissing(Exception):
    pass


async def replay(paths: list[str], *, bootstrap: str, topic: str, security: dict | None = None,
                 rate: float | None = None, speed: float | None = None, limit: int | None = None,
                 keep_timestamps: bool = False, include_invalid: bool = False,
                 max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, progress: Progress | None = None,
                 stop: asyncio.Event | None = None, metadata_timeout_s: float = 20.0) -> ReplayReport:
    """Replay `paths` to `topic`. With neither `rate` nor `speed`: as fast as possible."""
    if rate is not None and speed is not None:
        raise ValueError("rate and speed are exclusive")
    if rate is not None and rate <= 0 or speed is not None and speed <= 0:
        raise ValueError("rate and speed must be positive")
    mode = "rate" if rate is not None else "speed" if speed is not None else "max"
    report = ReplayReport(topic=topic, mode=mode, target_rate=rate, speed=speed)

    producer = producer_factory(bootstrap, security, linger_ms=5 if mode != "max" else 20)
    await producer.start()
    pending: set[asyncio.Future] = set()
    try:
        # Ask for the cluster's topic list first: a metadata request for one topic would make
        # brokers with auto-creation (Tansu) create a mistyped topic.
        try:
            cluster = await asyncio.wait_for(producer.client.fetch_all_metadata(), metadata_timeout_s)
            if topic not in cluster.topics():
                raise TopicMissing(topic)
            await asyncio.wait_for(producer.partitions_for(topic), metadata_timeout_s)
        except TopicMissing:
            raise
        except Exception:
            raise TopicMissing(topic) from None

        def on_done(future: asyncio.Future, where: tuple[str, int], invalid_reason: str | None) -> None:
            pending.discard(future)
            if future.cancelled():
                report.failed.append(Problem(where[0], where[1], "cancelled"))
            elif future.exception() is not None:
                report.failed.append(Problem(where[0], where[1],
                                             f"not_acknowledged:{type(future.exception()).__name__}"))
            else:
                report.sent += 1
                if invalid_reason is not None:
                    report.sent_invalid.append(Problem(where[0], where[1], invalid_reason))

        started: float | None = None
        ts0: int | None = None
        scheduled = 0                      # events handed to the producer
        due = 0.0
        async for line in _aiter_lines(paths):
            if stop is not None and stop.is_set():
                report.interrupted = True
                break
            if isinstance(line, ReadFailure):
                report.malformed.append(Problem(line.source, line.line, line.reason))
                continue
            if not line.raw.strip():
                report.blank += 1
                continue
            report.lines += 1
            outgoing, reason = prepare(line, max_event_bytes)
            if reason is not None and not include_invalid:
                report.malformed.append(Problem(line.source, line.number, reason))
                continue
            # pace
            now = time.monotonic()
            if started is None:
                started = now
                if progress:
                    progress.start()
            if mode == "rate":
                due = started + scheduled / rate                      # type: ignore[operator]
            elif mode == "speed" and outgoing.ts_ms is not None:
                if ts0 is None:
                    ts0 = outgoing.ts_ms
                due = started + (outgoing.ts_ms - ts0) / 1000 / speed  # type: ignore[operator]
            if mode != "max" and due - now > SLEEP_AHEAD_S:
                while True:
                    ahead = due - time.monotonic()
                    if ahead <= 0.0005 or (stop is not None and stop.is_set()):
                        break
                    await asyncio.sleep(min(ahead, 0.25) if progress is None else min(ahead, 0.1))
                    if progress:
                        progress.update(report.sent)
                if stop is not None and stop.is_set():
                    report.interrupted = True
                    break
            timestamp = outgoing.ts_ms if keep_timestamps and outgoing.ts_ms is not None else None
            try:
                future = await producer.send(topic, value=outgoing.value, key=outgoing.key,
                                             timestamp_ms=timestamp)
            except Exception as exc:  # e.g. MessageSizeTooLargeError: this line only
                report.failed.append(Problem(line.source, line.number, f"not_sent:{type(exc).__name__}"))
                continue
            scheduled += 1
            pending.add(future)
            future.add_done_callback(
                lambda f, w=(line.source, line.number), r=reason: on_done(f, w, r))
            if progress:
                progress.update(report.sent)
            if limit is not None and scheduled >= limit:
                report.limit_reached = True
                break
        await producer.flush()
        if pending:
            await asyncio.gather(*list(pending), return_exceptions=True)
        if started is not None:
            report.elapsed_s = time.monotonic() - started
    finally:
        if progress:
            progress.finish()
        await producer.stop()
    report.malformed.sort(key=lambda p: (p.source, p.line))
    report.failed.sort(key=lambda p: (p.source, p.line))
    report.sent_invalid.sort(key=lambda p: (p.source, p.line))
    return report


def planned_total(paths: list[str], limit: int | None) -> int | None:
    """Lines to send, for the progress bar's ETA (None when reading a pipe)."""
    total = 0
    for path in paths:
        n = count_lines(path)
        if n is None:
            return limit
        total += n
    return min(total, limit) if limit is not None else total


__all__ = ["MODES", "Problem", "ReadFailure", "ReplayReport", "TopicMissing", "format_report", "lines_or_failure",
           "planned_total", "prepare", "replay"]

