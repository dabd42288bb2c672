"""`gbv-worker replay | capture | tail | generate | diff`: the traffic tools (worker/traffic/).

Thin shells: options, messages and exit codes here; the work in worker/traffic/.
The workflow (capture production, replay at speed, review a lexicon change) is in
docs/replay.md. Bootstrap servers and security come from the same settings as the
worker (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, ...); `--bootstrap` overrides.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import orjson
from faust.cli import argument, option

from worker.app import app, settings
from worker.errors import ConfigErrors
from worker.security import aiokafka_options
from worker.traffic.progress import Progress


def _fail(message: str, code: int = 2) -> None:
    print(f"gbv-worker: {message}", file=sys.stderr)
    raise SystemExit(code)


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C (or SIGTERM) sets the event so a command can stop cleanly and still report;
    a second Ctrl-C exits at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            os._exit(130)
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _bootstrap(value: str | None) -> str:
    return value or settings.bootstrap_servers


def _emit(text: str, to_stderr: bool = False) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    stream.write(text + "\n")
    stream.flush()


# -- replay ------------------------------------------------------------------------------------
@app.command(
    argument("files", nargs=-1, required=True),
    option("--topic", default=None, help="Topic to produce to. Default: GBV_SEARCH_TOPIC."),
    option("--rate", type=float, default=None, help="Events per second."),
    option("--speed", type=float, default=None, help="X times the recorded pace, from the events' ts."),
    option("--max", "max_pace", is_flag=True, help="As fast as the broker takes them (the default)."),
    option("--limit", type=int, default=None, help="Send at most N events."),
    option("--keep-timestamps", is_flag=True, help="Record timestamp = the event's ts."),
    option("--include-invalid", is_flag=True,
           help="Also send malformed lines as they are (to exercise the dead-letter path); still reported."),
    option("--bootstrap", default=None, help="Default: KAFKA_BOOTSTRAP_SERVERS."),
    option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout."),
)
async def replay(self, files: tuple[str, ...], topic: str | None, rate: float | None, speed: float | None,
                 max_pace: bool, limit: int | None, keep_timestamps: bool, include_invalid: bool,
                 bootstrap: str | None, as_json: bool) -> None:
    """Produce recorded search events (JSONL, gzip or not, - for stdin) to the search topic."""
    from worker.traffic import replay as replaying

    if sum([rate is not None, speed is not None, max_pace]) > 1:
        _fail("choose one of --rate, --speed and --max")
    if rate is not None and rate <= 0 or speed is not None and speed <= 0:
        _fail("--rate and --speed must be positive")
    if limit is not None and limit < 1:
        _fail("--limit must be at least 1")
    if list(files).count("-") > 1:
        _fail("stdin (-) can be read only once")
    for path in files:
        if path != "-" and not Path(path).is_file():
            _fail(f"no such file: {path}")
    topic = topic or settings.search_topic
    progress = Progress("replay", replaying.planned_total(list(files), limit))
    with _interruptible() as stop:
        try:
            report = await replaying.replay(
                list(files), bootstrap=_bootstrap(bootstrap), topic=topic, security=aiokafka_options(settings),
                rate=rate, speed=speed, limit=limit, keep_timestamps=keep_timestamps,
                include_invalid=include_invalid, max_event_bytes=settings.max_event_bytes,
                progress=progress, stop=stop)
        except replaying.TopicMissing:
            _fail(f"topic {topic} not found on {_bootstrap(bootstrap)} (gbv-worker create-topics creates it)")
        except OSError as exc:
            _fail(f"cannot read the input: {type(exc).__name__}: {exc.strerror or exc}")
    if as_json:
        _emit(orjson.dumps(report.as_dict()).decode())
    else:
        _emit(replaying.format_report(report))
    if report.exit_code:
        raise SystemExit(report.exit_code)


# -- capture -----------------------------------------------------------------------------------
@app.command(
    argument("topic"),
    option("--out", required=True, help="JSONL file (.gz compresses; - for stdout)."),
    option("--from-beginning", is_flag=True, help="Start at each partition's first offset (the default)."),
    option("--since", default=None, help="Start at the first record at or after TIME "
                                         "(RFC 3339, epoch ms, now, or a duration ago like 2h)."),
    option("--from-offset", "from_offsets", multiple=True,
           help="PARTITION:OFFSET (repeatable); only those partitions; negative = from the end."),
    option("--until", default=None, help="Stop at the first record at or after TIME (+10m = in ten minutes)."),
    option("--limit", type=int, default=None, help="Stop after N records."),
    option("--bootstrap", default=None, help="Default: KAFKA_BOOTSTRAP_SERVERS."),
    option("--json", "as_json", is_flag=True, help="The summary as one JSON object."),
)
async def capture(self, topic: str, out: str, from_beginning: bool, since: str | None,
                  from_offsets: tuple[str, ...], until: str | None, limit: int | None, bootstrap: str | None,
                  as_json: bool) -> None:
    """Dump a topic range to JSONL (partition, offset, timestamp, key, value per record)."""
    from worker.traffic import capture as capturing

    if sum(bool(x) for x in (from_beginning, since, from_offsets)) > 1:
        _fail("choose one of --from-beginning, --since and --from-offset")
    if limit is not None and limit < 1:
        _fail("--limit must be at least 1")
    now_ms = int(time.time() * 1000)
    try:
        since_ms = capturing.parse_time(since, now_ms) if since else None
        until_ms = capturing.parse_time(until, now_ms) if until else None
        offsets = dict(capturing.parse_partition_offset(v) for v in from_offsets) if from_offsets else None
    except ValueError as exc:
        _fail(str(exc))
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        _fail("--until must be later than --since")
    to_stderr = out == "-"
    # a bar on the terminal that also shows the records would garble them
    progress = Progress("capture", None, unit="records", enabled=not (to_stderr and sys.stdout.isatty()))
    with _interruptible() as stop:
        try:
            report = await capturing.capture(
                topic, out, bootstrap=_bootstrap(bootstrap), security=aiokafka_options(settings),
                since_ms=since_ms, offsets=offsets, until_ms=until_ms, limit=limit, progress=progress, stop=stop,
                note=lambda message: _emit(f"capture: {message}", to_stderr=True))
        except capturing.TopicMissing:
            _fail(f"topic {topic} not found on {_bootstrap(bootstrap)}")
        except ValueError as exc:
            _fail(str(exc))
    _emit(orjson.dumps(report.as_dict()).decode() if as_json else capturing.format_report(report), to_stderr)
    if report.interrupted:
        raise SystemExit(130)


# -- tail ----------------------------------------------------------------------------------------
@app.command(
    argument("topic"),
    option("--limit", type=int, default=None, help="Stop after N records."),
    option("--from-beginning", is_flag=True, help="Show the topic from its first records, then follow."),
    option("--bootstrap", default=None, help="Default: KAFKA_BOOTSTRAP_SERVERS."),
)
async def tail(self, topic: str, limit: int | None, from_beginning: bool, bootstrap: str | None) -> None:
    """A readable live view of notices or dead letters (queries and originals never shown)."""
    from worker.traffic import tail as tailing

    if limit is not None and limit < 1:
        _fail("--limit must be at least 1")
    where = "from the beginning" if from_beginning else "new records only"

    def ready(partitions: int) -> None:
        _emit(f"tail: following {topic} ({partitions} partitions, {where}; Ctrl-C stops)", to_stderr=True)

    with _interruptible() as stop:
        try:
            await tailing.tail(topic, bootstrap=_bootstrap(bootstrap), security=aiokafka_options(settings),
                               limit=limit, from_beginning=from_beginning, stop=stop, on_ready=ready)
        except tailing.TopicMissing:
            _fail(f"topic {topic} not found on {_bootstrap(bootstrap)}")


# -- generate ------------------------------------------------------------------------------------
@app.command(
    option("--events", "n_events", type=int, required=True, help="How many search events."),
    option("--positive-rate", type=float, default=0.02, show_default=True, help="Share of GBV searches."),
    option("--countries", multiple=True, help="ISO codes, comma-separated or repeated. Default: all seven."),
    option("--seed", type=int, default=0, show_default=True, help="Same seed, same file."),
    option("--out", required=True, help="JSONL file (.gz compresses; - for stdout)."),
    option("--start", default=None, help="ts of the first event (RFC 3339 or epoch ms). "
                                         "Default: 2026-12-01T00:00:00Z."),
    option("--events-per-second", type=float, default=50.0, show_default=True,
           help="Recorded pace the ts values advance at (what --speed replays)."),
    option("--invalid-rate", type=float, default=0.0, show_default=True,
           help="Share of events broken on purpose (dead-letter traffic)."),
)
async def generate(self, n_events: int, positive_rate: float, countries: tuple[str, ...], seed: int, out: str,
                   start: str | None, events_per_second: float, invalid_rate: float) -> None:
    """Realistic synthetic search traffic for load tests, deterministic for a seed."""
    from worker.traffic import generate as generating
    from worker.traffic.capture import parse_time

    codes = [c for value in countries for c in value.split(",") if c.strip()] or None
    kwargs: dict = {"events_per_second": events_per_second, "invalid_rate": invalid_rate}
    if start:
        try:
            kwargs["start_ms"] = parse_time(start)
        except ValueError as exc:
            _fail(str(exc))
    started = time.perf_counter()
    try:
        events = generating.generate_events(n_events, positive_rate, codes, seed, **kwargs)
        first = next(events, None)          # validate the arguments before opening the file
    except ValueError as exc:
        _fail(str(exc))

    def everything():
        if first is not None:
            yield first
            yield from events

    count = generating.write_events(everything(), out)
    shown = ",".join(c.strip().upper() for c in codes) if codes else "all countries"
    _emit(f"generate: {count:,} events ({shown}, positive rate {positive_rate:g}, seed {seed}) "
          f"to {'<stdout>' if out == '-' else out} in {time.perf_counter() - started:.2f} s", to_stderr=out == "-")


# -- diff ----------------------------------------------------------------------------------------
def _load_config(directory: str, label: str):
    from worker.runtime import load_runtime_config

    try:
        return load_runtime_config(Path(directory))
    except ConfigErrors as exc:
        print(f"gbv-worker: invalid configuration {label} in {directory} ({len(exc.errors)} problem(s)):",
              file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        raise SystemExit(2) from None


@app.command(
    argument("files", nargs=-1, required=True),
    option("--config-a", required=True, help="Configuration directory A (the current one)."),
    option("--config-b", required=True, help="Configuration directory B (the proposed one)."),
    option("--examples", type=int, default=3, show_default=True, help="Example events per country and kind."),
    option("--show-queries", is_flag=True, help="Include the example events' query text."),
    option("--fail-on-change", is_flag=True, help="Exit 1 when any event changes (for CI)."),
    option("--json", "as_json", is_flag=True, help="The report as one JSON object."),
)
async def diff(self, files: tuple[str, ...], config_a: str, config_b: str, examples: int, show_queries: bool,
               fail_on_change: bool, as_json: bool) -> None:
    """Run two configurations over one recorded stream offline: which events start or stop showing a notice."""
    from worker.traffic import diff as diffing

    for path in files:
        if path != "-" and not Path(path).is_file():
            _fail(f"no such file: {path}")
    a = _load_config(config_a, "A")
    b = _load_config(config_b, "B")
    progress = Progress("diff", None)
    report = diffing.diff_events(a, b, files, examples=max(0, examples), show_queries=show_queries,
                                 max_event_bytes=settings.max_event_bytes, progress=progress)
    _emit(orjson.dumps(report.as_dict()).decode() if as_json else diffing.format_report(report))
    if fail_on_change and report.changes:
        raise SystemExit(1)
