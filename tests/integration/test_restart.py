"""At-least-once across a worker restart: a SIGKILL mid-stream loses no notice."""

import collections
import signal
import time

from worker.testing import consume, produce, search_event, wait_until

GBV = ["kdrt", "domestic violence hotline", "#KDRT", "domestic abuse shelter"]
EVERYDAY = ["weather tomorrow", "nasi goreng recipe", "liga 1 score", "cheap flights bali"]


def test_kill_and_restart_loses_nothing(broker, topics, start_worker):
    events = []
    for i in range(6000):
        query = GBV[i % 4] if i % 3 == 0 else EVERYDAY[i % 4]
        events.append((f"k{i % 97}".encode(), search_event(f"r{i}", query, "SG" if i % 2 else "ID")))
    expected = {f"r{i}" for i in range(6000) if i % 3 == 0}
    produce(broker.bootstrap, topics.search, events)

    first = start_worker()
    wait_until(lambda: len(consume(broker.bootstrap, topics.notices, expect=1, timeout=3)) > 0, 60,
               message="first notices")
    time.sleep(0.3)
    first.signal(signal.SIGKILL)
    first.process.wait(10)
    before = len(consume(broker.bootstrap, topics.notices, idle=1, timeout=10))

    start_worker()
    notices = consume(broker.bootstrap, topics.notices, expect=len(expected), timeout=120)
    counts = collections.Counter(n.json()["search_event_id"] for n in notices)
    ids_per_event = collections.defaultdict(set)
    for n in notices:
        ids_per_event[n.json()["search_event_id"]].add(n.json()["notice_event_id"])
    duplicates = sum(c - 1 for c in counts.values())
    print(f"events=6000 gbv={len(expected)} notices_before_kill={before} notices={len(notices)} "
          f"duplicates={duplicates}")
    assert set(counts) == expected
    assert all(len(ids) == 1 for ids in ids_per_event.values())   # repeats carry the same id
