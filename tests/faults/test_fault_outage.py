"""Broker outage: a TCP proxy between the worker and the broker is cut for 15 s mid-stream.
The worker reconnects by itself (same process), nothing is lost, and the outage shows in
its metrics (gbv_broker_errors_total) and its log."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from faultkit import FaultBroker, account, committed, figures, make_events, metrics_totals, wait_group_done
from worker.broker import create_topics, free_port
from worker.netproxy import KafkaProxy
from worker.testing import TopicSet, WorkerProcess, produce, wait_until

pytestmark = pytest.mark.broker          # starts its own brokers (skipped by `make test-fast`)
OUTAGE_S = 15.0
SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)
# What aiokafka and the worker log while the broker is unreachable.
OUTAGE_LOG_MARKERS = ("Unable connect", "Unable to update metadata", "Heartbeat send request failed",
                      "Broker did not answer", "Broker did not acknowledge", "KafkaConnectionError")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_fifteen_second_outage_mid_stream_loses_nothing(tmp_path):
    started = time.monotonic()
    proxy_port = free_port()
    # The broker advertises the proxy, so every connection of the worker goes through it.
    with FaultBroker(tmp_path / "tansu.log", advertised_port=proxy_port) as broker, \
            KafkaProxy(proxy_port, broker.port, fix_api_versions=False) as proxy:
        bootstrap = f"127.0.0.1:{proxy_port}"
        topics = TopicSet.unique("outage")
        asyncio.run(create_topics(bootstrap, [topics.search, topics.notices, topics.dead_letters], 4))
        mix = make_events(30_000, seed=SEED, prefix="outage")
        before, after = mix.records[:20_000], mix.records[20_000:]
        produce(bootstrap, topics.search, before)

        worker = WorkerProcess(bootstrap, topics, tmp_path / "worker.log").start(timeout=90)
        pid = worker.process.pid
        wait_until(lambda: metrics_totals(worker.scrape())["processed"] > 0, 60, 0.05, "first events processed")
        at_cut = metrics_totals(worker.scrape())
        log_offset = len(worker.log_text())

        proxy.cut()
        cut_at = time.monotonic()
        while time.monotonic() - cut_at < OUTAGE_S:
            assert worker.process.poll() is None, f"worker exited during the outage:\n{worker.log_tail()}"
            time.sleep(0.5)
        during = metrics_totals(worker.scrape())
        outage_log = worker.log_text()[log_offset:]
        proxy.restore()
        restored_at = time.monotonic()

        produce(bootstrap, topics.search, after)        # the stream goes on after the outage
        wait_until(lambda: metrics_totals(worker.scrape())["processed"] > during["processed"], 120, 0.2,
                   "processing after the outage")
        resumed_s = time.monotonic() - restored_at

        def alive() -> None:
            assert worker.process.poll() is None, f"worker exited:\n{worker.log_tail()}"

        drain_s = wait_group_done(bootstrap, topics.group, topics.search, mix.sent, timeout=150, alive=alive)
        final = metrics_totals(worker.scrape())
        assert worker.process.pid == pid and worker.stop() == 0
        done = committed(bootstrap, topics.group, topics.search)
        acc, _, _ = account(bootstrap, topics, mix)

    log_lines = [line for line in outage_log.splitlines() if any(m in line for m in OUTAGE_LOG_MARKERS)]
    figures("outage", seed=SEED, sent=acc.sent, processed=acc.valid, dead_lettered=acc.dead_letter_events,
            duplicates=acc.duplicates, gbv=acc.gbv_expected, notices=acc.notices, outage_s=OUTAGE_S,
            processed_at_cut=int(at_cut["processed"]), processed_during_outage=int(during["processed"]),
            resumed_after_s=resumed_s, broker_errors=int(final["broker_errors"]),
            outage_log_lines=len(log_lines), worker_processed=int(final["processed"]),
            worker_dead_lettered=int(final["dead_lettered"]), committed=done, drain_s=drain_s,
            seconds=time.monotonic() - started)
    acc.check()
    assert done == mix.sent
    assert acc.valid + acc.dead_letter_events == acc.sent
    # The same worker process (no restart) handled every event exactly as counted by its metrics.
    assert int(final["processed"] + final["dead_lettered"]) >= acc.sent
    # The outage is visible: in the metrics and in the log written while it lasted.
    assert final["broker_errors"] >= 1, "gbv_broker_errors_total did not move during the outage"
    assert log_lines, "nothing in the worker log during the outage"
