"""A broker that answers fetches with nothing although records are pending.

Tansu 0.6.0's memory storage lists a partition's whole log on every fetch and, when that
takes longer than the fetch's wait, answers with no records, however far behind the log
end the fetch is. With a fixed short wait (Faust's consumer with GBV_FETCH_MAX_WAIT_MS=10)
the stream stalled for good once a partition held about 20,000 batches: the soak found it.
Here the log is made of one-record batches (as a paced producer makes them) and the
worker's shortest wait is 1 ms, so the broker fails the short fetches from the start. The
worker must raise its wait (worker.transport.FetchWait), say so in /metrics and its log,
and process everything.

Without the adaptive wait (GBV_FETCH_WAIT_CEILING_MS=1, the floor) this stream stalls:
checked by hand, see docs/operations.md."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from aiokafka import AIOKafkaProducer

from faultkit import account, figures, make_events, wait_group_done
from worker.testing import WorkerProcess, metric_value

SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)
EVENTS = 40_000


async def _produce_one_record_batches(bootstrap: str, topic: str, records, partitions: int = 4) -> None:
    """Each send awaited before the next on its partition: every record is a batch of its own."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, enable_idempotence=False)
    await producer.start()
    try:
        async def one_partition(p: int) -> None:
            for key, value in records[p::partitions]:
                await (await producer.send(topic, value, key=key, partition=p))
        await asyncio.gather(*(one_partition(p) for p in range(partitions)))
    finally:
        await producer.stop()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_worker_raises_its_fetch_wait_when_the_broker_answers_short_fetches_empty(broker, topics, tmp_path):
    mix = make_events(EVENTS, seed=SEED, prefix="slowfetch")
    worker = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker.log",
                           extra_env={"GBV_FETCH_MAX_WAIT_MS": "1", "GBV_FETCH_WAIT_CEILING_MS": "1500"})
    worker.start(timeout=90)
    # The gauge is sampled while the stream runs: once the topic is idle the worker lowers
    # its wait again (16 idle fetches per halving), so the value at the end says little.
    peak_wait_s, stop_sampling = [0.0], threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(0.2):
            try:
                peak_wait_s[0] = max(peak_wait_s[0],
                                     metric_value(worker.scrape(), "gbv_consumer_fetch_wait_seconds"))
            except OSError:
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    asyncio.run(_produce_one_record_batches(broker.bootstrap, topics.search, mix.records))
    produced_s = time.monotonic() - started
    drain_s = wait_group_done(broker.bootstrap, topics.group, topics.search, mix.sent, timeout=120)
    stop_sampling.set()
    sampler.join()
    log = worker.log_text()
    assert worker.stop() == 0
    acc, _, _ = account(broker.bootstrap, topics, mix)
    figures("slow_fetch", seed=SEED, sent=acc.sent, processed=acc.valid, notices=acc.notices,
            duplicates=acc.duplicates, produce_s=produced_s, drain_s=drain_s,
            peak_fetch_wait_ms=peak_wait_s[0] * 1000)
    assert peak_wait_s[0] > 0.001, "the fetch wait was never raised"
    assert "fetch wait raised from 1 to 2 ms" in log
    acc.check()
