"""Test and benchmark hooks: run the real worker as a process, produce and read topics.

The tests, the fault tests and `make bench` all use these, so a "worker" in a test is
exactly what `gbv-worker worker` runs in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import orjson

from worker.broker import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TopicSet:
    search: str
    notices: str
    dead_letters: str
    group: str

    @classmethod
    def unique(cls, prefix: str) -> "TopicSet":
        tag = f"{prefix}-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        return cls(f"{tag}-search", f"{tag}-notices", f"{tag}-dlq", f"{tag}-group")


@dataclass
class WorkerProcess:
    """`gbv-worker worker` in a subprocess with its own metrics port and log file."""

    bootstrap: str
    topics: TopicSet
    log_path: Path
    extra_env: dict = field(default_factory=dict)
    log_level: str = "info"
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def env(self) -> dict:
        # The test's own settings, not the caller's; GBV_CONFIG_DIR is kept so a suite can
        # run against another configuration.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GBV_", "KAFKA_")) or k == "GBV_CONFIG_DIR"}
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "GBV_SEARCH_TOPIC": self.topics.search,
            "GBV_NOTICE_TOPIC": self.topics.notices,
            "GBV_DLQ_TOPIC": self.topics.dead_letters,
            "GBV_GROUP_ID": self.topics.group,
            "GBV_METRICS_PORT": str(self.metrics_port),
            "GBV_METRICS_HOST": "127.0.0.1",
            "GBV_SESSION_TIMEOUT_S": "6",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def start(self, wait: bool = True, timeout: float = 60.0) -> "WorkerProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker", "worker", "-l", self.log_level],
            stdout=log, stderr=subprocess.STDOUT, env=self.env(), cwd=str(ROOT), start_new_session=True)
        if wait:
            self.wait_ready(timeout)
        return self

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the worker serves /metrics and has joined the group (its log says so)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}; log: {self.log_path}\n"
                                   + self.log_tail())
            if "Worker serving" in self.log_text() and "Ready" in self.log_text():
                try:
                    self.scrape()
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout}s; log tail:\n{self.log_tail()}")

    def scrape(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as response:
            return response.read().decode()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def signal(self, sig: int) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after the timeout. Returns the exit code."""
        if not self.process:
            return None
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.process.wait(10)
        return self.process.returncode

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.signal(signal.SIGKILL)
            self.process.wait(10)


def search_event(event_id: str, query: str, country: str, ts_ms: int | None = None, **extra) -> bytes:
    body = {"event_id": event_id, "ts": ts_ms if ts_ms is not None else int(time.time() * 1000),
            "query": query, "country": country, **extra}
    return orjson.dumps(body)


async def produce_async(bootstrap: str, topic: str, values: Iterable[bytes | tuple[bytes | None, bytes]],
                        linger_ms: int = 5) -> int:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=linger_ms, acks="all",
                                enable_idempotence=False, max_request_size=4 * 1024 * 1024)
    await producer.start()
    count = 0
    try:
        futures = []
        for item in values:
            key, value = item if isinstance(item, tuple) else (None, item)
            futures.append(await producer.send(topic, value=value, key=key))
            count += 1
            if len(futures) >= 5000:
                await asyncio.gather(*futures)
                futures.clear()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return count


def produce(bootstrap: str, topic: str, values: Iterable[bytes | tuple[bytes | None, bytes]]) -> int:
    return asyncio.run(produce_async(bootstrap, topic, values))


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp: int

    def json(self):
        return orjson.loads(self.value)


async def consume_async(bootstrap: str, topic: str, *, expect: int | None = None, timeout: float = 60.0,
                        idle: float = 3.0, **client_options) -> list[Record]:
    """Read a topic from the beginning until `expect` records arrived (or `idle` s of silence
    when expect is None), at most `timeout` seconds. `client_options` go to the consumer
    (security settings, for example)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None, **client_options)
    await consumer.start()
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=10000)
            for messages in batch.values():
                for m in messages:
                    records.append(Record(m.partition, m.offset, m.key, m.value, m.timestamp))
                last = time.monotonic()
            quiet = time.monotonic() - last
            # With `expect`, keep reading briefly so that surplus records (duplicates) are seen too.
            if (expect is not None and len(records) >= expect and quiet > 0.5) or \
                    (expect is None and records and quiet > idle):
                break
    finally:
        await consumer.stop()
    return records


def consume(bootstrap: str, topic: str, **kwargs) -> list[Record]:
    return asyncio.run(consume_async(bootstrap, topic, **kwargs))


def metric_value(exposition: str, name: str, labels: dict | None = None) -> float:
    """Sum of the samples of `name` whose labels include `labels` (text exposition format)."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name != name:
                continue
            if labels and any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            total += sample.value
    return total


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{message} not reached within {timeout}s")

