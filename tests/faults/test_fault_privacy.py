"""Privacy: a worker at debug log level over a stream of known GBV queries never writes a query
string, user id or session id into its logs, its /metrics output or its dead-letter reasons.
(Notices carry the session id to the platform by design; they are the product, not a leak.)"""

from __future__ import annotations

import os
import secrets
import time

import orjson
import pytest

from faultkit import GBV_QUERIES, committed, expected_notice, figures, metrics_totals, wait_group_done
from worker.testing import WorkerProcess, consume, produce

SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)
MORE_QUERIES = [("tolong suami saya pukul saya setiap malam", "ID"), ("how to report my stalker ex", "SG"),
                ("ex pacar sebar foto bugil saya", "ID"), ("가정폭력 신고 방법", "KR"), ("bị chồng bạo hành", "VN")]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_no_query_user_or_session_id_in_logs_metrics_or_dead_letter_reasons(broker, topics, tmp_path):
    started = time.monotonic()
    now = int(time.time() * 1000)
    queries = [(q, c) for q, c in GBV_QUERIES + MORE_QUERIES]
    secrets_seen: set[str] = set()
    records, gbv = [], 0
    for i in range(3000):
        query, country = queries[i % len(queries)]
        user_id, session_id = f"uid-{secrets.token_hex(6)}", f"sess-{secrets.token_hex(6)}"
        secrets_seen.update((user_id, session_id))
        body = {"event_id": f"priv-{i}", "ts": now, "query": query, "country": country, "user_id": user_id,
                "session_id": session_id, "locale": f"{country.lower()}-{country}"}
        if i % 10 == 9:      # invalid events that still carry the query and ids: dead-lettered
            body["ts"] = "not a time" if i % 20 == 9 else -1
        value = orjson.dumps(body)
        gbv += bool(i % 10 != 9 and expected_notice(value))
        records.append((session_id.encode(), value))
    produce(broker.bootstrap, topics.search, records)

    worker = WorkerProcess(broker.bootstrap, topics, tmp_path / "worker.log", log_level="debug").start(timeout=90)
    drain_s = wait_group_done(broker.bootstrap, topics.group, topics.search, len(records), timeout=120)
    exposition = worker.scrape()
    m = metrics_totals(exposition)
    assert worker.stop() == 0
    log = worker.log_text()
    dead = consume(broker.bootstrap, topics.dead_letters, expect=len(records) // 10, timeout=60)
    reasons = [r.json()["reason"] for r in dead]

    places = {"log": log, "metrics": exposition, "dead-letter reasons": "\n".join(reasons)}
    private = [q for q, _ in queries] + sorted(secrets_seen)
    leaks = {where: [p for p in private if p in text] for where, text in places.items()}
    figures("privacy", seed=SEED, sent=len(records), processed=int(m["processed"]),
            dead_lettered=int(m["dead_lettered"]), duplicates=len(dead) - int(m["dead_lettered"]),
            gbv=gbv, notices=int(m["notices"]), log_lines=log.count("\n"), log_bytes=len(log),
            metrics_bytes=len(exposition), private_strings_checked=len(private),
            leaks=sum(len(v) for v in leaks.values()), committed=committed(broker.bootstrap, topics.group,
                                                                            topics.search), drain_s=drain_s,
            seconds=time.monotonic() - started)
    assert log.count("DEBUG") > 0, "the worker did not log at debug level"
    assert int(m["processed"] + m["dead_lettered"]) == len(records) and int(m["notices"]) == gbv
    for where, found in leaks.items():
        assert not found, f"{len(found)} private strings in the {where}, e.g. {found[:3]}"
