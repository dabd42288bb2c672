"""Graceful shutdown: SIGTERM mid-stream. The worker finishes what it has in hand, flushes its
producer, commits, and exits 0 within a bounded time. Then a new worker finishes the stream:
nothing is lost, and nothing the first worker delivered is delivered again (its commit at
shutdown covered every event it had answered)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from faultkit import account, committed, committed_by_partition, figures, make_events, metrics_totals, \
    wait_group_done
from worker.testing import WorkerProcess, consume, produce, wait_until

EXIT_BOUND_S = 30.0
SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigterm_mid_stream_commits_and_exits_zero(broker, topics, tmp_path):
    started = time.monotonic()
    mix = make_events(30_000, seed=SEED, prefix="term")
    produce(broker.bootstrap, topics.search, mix.records)

    first = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker-1.log").start(timeout=90)
    wait_until(lambda: metrics_totals(first.scrape())["processed"] >= 3000, 60, 0.05, "the stream under way")
    at_term = metrics_totals(first.scrape())
    first.signal(signal.SIGTERM)
    term_at = time.monotonic()
    code = first.process.wait(EXIT_BOUND_S + 30)
    exit_s = time.monotonic() - term_at

    # What the first worker left: committed offsets, and the notices it had delivered.
    offsets = committed_by_partition(broker.bootstrap, topics.group, topics.search)
    search = {r.json()["event_id"]: (r.partition, r.offset) for r in
              consume(broker.bootstrap, topics.search, expect=mix.sent, timeout=60)
              if r.value.startswith(b"{\"event_id\"")}
    delivered = {r.json()["search_event_id"] for r in consume(broker.bootstrap, topics.notices, idle=2, timeout=30)}
    below = {e for e in mix.gbv if search[e][1] < offsets.get(search[e][0], 0)}
    lost = below - delivered                        # committed but never delivered: loss
    beyond = {e for e in delivered if e in search and search[e][1] >= offsets.get(search[e][0], 0)}

    second = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker-2.log").start(timeout=90)
    drain_s = wait_group_done(broker.bootstrap, topics.group, topics.search, mix.sent, timeout=120)
    assert second.stop() == 0
    acc, _, _ = account(broker.bootstrap, topics, mix)
    figures("shutdown", seed=SEED, sent=acc.sent, processed=acc.valid, dead_lettered=acc.dead_letter_events,
            duplicates=acc.duplicates, gbv=acc.gbv_expected, notices=acc.notices, exit_code=code, exit_s=exit_s,
            processed_at_sigterm=int(at_term["processed"]), committed_at_exit=sum(offsets.values()),
            notices_at_exit=len(delivered), delivered_but_uncommitted=len(beyond), lost=len(lost),
            drain_s=drain_s, seconds=time.monotonic() - started)
    assert code == 0, f"exit code {code}:\n{first.log_tail()}"
    assert exit_s <= EXIT_BOUND_S
    assert not lost
    acc.check()
    assert committed(broker.bootstrap, topics.group, topics.search) == mix.sent
    # The shutdown commit covered everything the first worker had delivered.
    assert not beyond, f"{len(beyond)} notices delivered but not committed at shutdown (replayed as duplicates)"
    assert acc.duplicates == 0
