"""Crash: SIGKILL the worker at random moments of a 50,000-event replay, several times, and
restart it. Nothing is lost: every GBV event has a notice with its deterministic id (repeats
only of that id), every invalid event a dead letter, and the group's committed offsets reach
the end of the search topic (so every event was processed or dead-lettered)."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from faultkit import (account, committed, figures, join_producer, make_events, metrics_totals,
                      produce_in_background, wait_group_done)
from worker.testing import WorkerProcess

EVENTS = 50_000
KILLS = 4
SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_loses_nothing(broker, topics, tmp_path):
    started = time.monotonic()
    rng = random.Random(SEED)
    mix = make_events(EVENTS, seed=SEED, prefix="crash")
    # The replay streams in while workers come and go: 50 chunks of 1,000, half a second apart
    # (~25 s, longer than the four worker lives, so every kill lands mid-stream).
    producer = produce_in_background(broker.bootstrap, topics.search, mix.records, chunk=1000, pause=0.5)

    kills = []
    for k in range(KILLS):
        worker = WorkerProcess(broker.bootstrap, topics, tmp_path / f"worker-{k}.log").start(timeout=90)
        time.sleep(rng.uniform(0.2, 2.5))
        worker.signal(signal.SIGKILL)
        worker.process.wait(10)
        kills.append(committed(broker.bootstrap, topics.group, topics.search))

    final = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker-final.log").start(timeout=90)

    def alive() -> None:
        assert final.process.poll() is None, f"final worker died:\n{final.log_tail()}"

    join_producer(producer)
    drain_s = wait_group_done(broker.bootstrap, topics.group, topics.search, EVENTS, timeout=150, alive=alive)
    final_metrics = metrics_totals(final.scrape())
    assert final.stop() == 0
    done = committed(broker.bootstrap, topics.group, topics.search)

    acc, _, _ = account(broker.bootstrap, topics, mix)
    figures("crash", seed=SEED, sent=acc.sent, processed=acc.valid, dead_lettered=acc.dead_letter_events,
            duplicates=acc.duplicates, dead_letter_duplicates=acc.dead_letter_duplicates,
            gbv=acc.gbv_expected, notices=acc.notices, kills=KILLS,
            committed_at_kills="|".join(map(str, kills)), committed=done,
            final_worker_processed=int(final_metrics["processed"]),
            final_worker_dead_lettered=int(final_metrics["dead_lettered"]),
            drain_s=drain_s, seconds=time.monotonic() - started)
    acc.check()
    assert done == EVENTS
    assert any(k < EVENTS for k in kills[1:]), "the kills should land mid-stream"
    assert acc.valid + acc.dead_letter_events == acc.sent
