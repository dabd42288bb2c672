"""The reference loop: plain aiokafka consume -> parse -> detect -> choose notice -> produce -> commit.

It uses the project's real parser, detector and notice code, so the worker's ratio to it
measures only what Faust's machinery costs. Run as a subprocess by bench/__main__.py;
prints one JSON object with its figures.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from worker.events import InvalidEvent, encode_dead_letter, parse_search_event
from worker.notices.selection import choose_notice
from worker.runtime import load_runtime_config
from worker.settings import Settings


async def run(bootstrap: str, source: str, sink: str, dlq: str, expect: int) -> dict:
    config = load_runtime_config(Settings.from_env().config_path)
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"bare-{source}",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, enable_idempotence=False)
    await consumer.start()
    await producer.start()
    # Join the group and let the first rebalances settle before the stream arrives, as the
    # benchmark does for the worker; then say so (the benchmark pauses us while it produces).
    quiet_since = None
    while quiet_since is None or time.monotonic() - quiet_since < 3:
        await consumer.getmany(timeout_ms=100)
        if consumer.assignment() and quiet_since is None:
            quiet_since = time.monotonic()
    print("READY", flush=True)
    detector, registry = config.detector, config.registry
    notices = dead = 0
    # Unique offsets: a fresh group may re-fetch records around its first rebalance, and
    # only the stream's events count, however often some were handled.
    seen: set = set()
    started = cpu0 = None
    try:
        while len(seen) < expect:
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            if not batch:
                continue
            if started is None:
                started, cpu0 = time.perf_counter(), time.process_time()
            futures = []
            for records in batch.values():
                for record in records:
                    try:
                        event = parse_search_event(record.value)
                    except InvalidEvent as bad:
                        futures.append(await producer.send(dlq, encode_dead_letter(
                            bad.reason, record.topic, record.partition, record.offset, record.value,
                            time.time_ns() // 1_000_000), key=record.key))
                        dead += 1
                        continue
                    detection = detector.detect(event.query, event.country, event.locale)
                    if detection.is_gbv:
                        notice = choose_notice(registry, event, detection.category, config.detector_version,
                                               config.config_version)
                        if notice is not None:
                            futures.append(await producer.send(sink, notice.encode(time.time_ns() // 1_000_000),
                                                               key=record.key))
                            notices += 1
                seen.update((r.partition, r.offset) for r in records)
            await asyncio.gather(*futures)
            await consumer.commit()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu0
    finally:
        await producer.stop()
        await consumer.stop()
    done = len(seen)
    return {"events": done, "notices": notices, "dead_letters": dead, "seconds": elapsed,
            "events_per_s": done / elapsed, "cpu_s_per_100k": cpu / done * 100_000,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: ru_maxrss keeps the forking parent's peak across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("--dlq", required=True)
    parser.add_argument("--expect", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(args.bootstrap, args.source, args.sink, args.dlq, args.expect))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
