"""Scale-out and rebalance: two workers in one consumer group share a 4-partition topic; one is
killed mid-stream; the other takes its partitions over and nothing is lost."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from faultkit import (account, committed, figures, join_producer, make_events, metrics_totals,
                      produce_in_background, wait_group_done)
from worker.testing import WorkerProcess, wait_until

SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)
_TABLE_ROW = re.compile(r"^\|\s*(?P<topic>\S+)\s*\|\s*\{(?P<parts>[^}]*)\}\s*\|", re.M)


def assigned(log_text: str, topic: str) -> set[int]:
    """The search-topic partitions of the worker's latest assignment, from Faust's log table."""
    marker = log_text.rfind("Setting newly assigned partitions")
    if marker < 0:
        return set()
    table = log_text[marker:log_text.find(" for group ", marker)]
    for match in _TABLE_ROW.finditer(table):
        if match["topic"] == topic:
            result: set[int] = set()
            for item in filter(None, (p.strip() for p in match["parts"].split(","))):
                low, _, high = item.partition("-")
                result.update(range(int(low), int(high or low) + 1))
            return result
    return set()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_workers_one_killed_the_other_takes_over(broker, topics, tmp_path):
    started = time.monotonic()
    mix = make_events(40_000, seed=SEED, prefix="scale")
    a = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker-a.log").start(timeout=90)
    b = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker-b.log").start(timeout=90)

    def split() -> bool:
        pa, pb = assigned(a.log_text(), topics.search), assigned(b.log_text(), topics.search)
        return bool(pa) and bool(pb) and not (pa & pb) and pa | pb == {0, 1, 2, 3}

    wait_until(split, 60, 0.2, "both workers own partitions")
    share_a, share_b = sorted(assigned(a.log_text(), topics.search)), sorted(assigned(b.log_text(), topics.search))

    producer = produce_in_background(broker.bootstrap, topics.search, mix.records, chunk=4000, pause=0.3)
    wait_until(lambda: metrics_totals(a.scrape())["processed"] > 0 and metrics_totals(b.scrape())["processed"] > 0,
               60, 0.1, "both workers processing")
    time.sleep(1.0)
    a_metrics = metrics_totals(a.scrape())
    a.signal(signal.SIGKILL)
    a.process.wait(10)
    killed_at = time.monotonic()
    committed_at_kill = committed(broker.bootstrap, topics.group, topics.search)

    wait_until(lambda: assigned(b.log_text(), topics.search) == {0, 1, 2, 3}, 60, 0.2,
               "the surviving worker owns every partition")
    takeover_s = time.monotonic() - killed_at

    def alive() -> None:
        assert b.process.poll() is None, f"surviving worker died:\n{b.log_tail()}"

    join_producer(producer)
    drain_s = wait_group_done(broker.bootstrap, topics.group, topics.search, mix.sent, timeout=150, alive=alive)
    b_metrics = metrics_totals(b.scrape())
    assert b.stop() == 0
    done = committed(broker.bootstrap, topics.group, topics.search)
    acc, _, _ = account(broker.bootstrap, topics, mix)
    figures("rebalance", seed=SEED, sent=acc.sent, processed=acc.valid, dead_lettered=acc.dead_letter_events,
            duplicates=acc.duplicates, gbv=acc.gbv_expected, notices=acc.notices,
            partitions_a=share_a, partitions_b=share_b, a_processed_before_kill=int(a_metrics["processed"]),
            committed_at_kill=committed_at_kill, takeover_s=takeover_s,
            b_processed=int(b_metrics["processed"]), b_dead_lettered=int(b_metrics["dead_lettered"]),
            committed=done, drain_s=drain_s, seconds=time.monotonic() - started)
    acc.check()
    assert done == mix.sent
    assert acc.valid + acc.dead_letter_events == acc.sent
