"""A real Prometheus scraping two real workers (one consumer group) on the real broker.

One known stream is replayed once per module; the tests then query Prometheus' HTTP API
with every PromQL expression of the dashboard and the alert rules. Expected numbers come
from the notice and dead-letter topics, never from hard-coded counts, because the detection
configuration is tuned by other people.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import math
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

import worker
from prom_helpers import (ROOT, PrometheusServer, alert_queries, alert_rules, dashboard_panels,
                          dashboard_queries, grafana_substitute, prometheus_binary, promtool_binary)
from worker.broker import create_topics
from worker.metrics import OTHER
from worker.runtime import load_runtime_config
from worker.testing import TopicSet, WorkerProcess, consume, metric_value, produce, search_event, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(prometheus_binary() is None or promtool_binary() is None,
                       reason="prometheus/promtool missing (make system-deps)"),
]

PARTITIONS = 4
# Clearly GBV in every configured country (English is every country's second language),
# and clearly not. The notice counts are read from the notice topic, not assumed.
GBV_QUERIES = ("domestic violence hotline", "help for rape victims", "sexual harassment at work")
GBV_BY_COUNTRY = {"ID": ("kdrt",)}
NOT_GBV_QUERIES = ("weather tomorrow", "grape juice recipe", "kdrama ranking", "traffic jam today")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Queries whose exact text would be a label if anything leaked (the flood uses them).
FLOOD_QUERIES = ("domestic violence hotline", "weather tomorrow")
RANGE_PANEL = "Impressions per country (total in range)"
MAY_BE_EMPTY: frozenset[tuple[str, str]] = frozenset()   # (panel title, refId) allowed to return no series


@dataclass
class Stack:
    prometheus: PrometheusServer
    workers: list[WorkerProcess]
    topics: TopicSet
    started_at: float
    events: list[dict]               # the JSON events produced (invalid raw events excluded)
    produced: int
    invalid_countries: set[str]
    notices: list[dict]
    dead_letters: list[dict]
    configured: frozenset[str]

    def scrapes(self) -> list[str]:
        return [w.scrape() for w in self.workers]


def known_stream(configured: list[str], languages: dict[str, list[str]]) -> tuple[list[bytes], list[dict], set[str]]:
    """The replayed stream: per configured country a different number of GBV searches (in
    each notice language), everyday searches with unique markers, GBV searches from
    unsupported countries, thousands of distinct invalid countries, and malformed events."""
    events: list[dict] = []

    def add(query: str, country: str, **extra) -> None:
        events.append({"event_id": f"prom-ev-{uuid.uuid4().hex}", "query": query, "country": country,
                       "session_id": f"prom-sess-{uuid.uuid4().hex}", **extra})

    for k, cc in enumerate(configured):
        gbv = list(GBV_QUERIES) + list(GBV_BY_COUNTRY.get(cc, ()))
        for i in range(2 + k % 4):                      # 2..5 GBV searches per language
            for language in languages[cc]:
                add(gbv[(i + k) % len(gbv)], cc, locale=f"{language}-{cc}")
        for i, query in enumerate(NOT_GBV_QUERIES):
            add(f"{query} zq{k}x{i}", cc, locale=f"{languages[cc][0]}-{cc}")
    for cc in ("FR", "DE", "US", "BR"):
        if cc not in configured:
            add("domestic violence hotline", cc)
            add(f"weather tomorrow zq{cc}", cc)
    # Distinct invalid countries: every unconfigured 2-letter code (valid shape, counted as
    # `other`) and 3-letter / digit / non-ASCII codes (dead-lettered as bad_value:country).
    invalid = [a + b for a in LETTERS for b in LETTERS if a + b not in configured]
    invalid += [f"{a}{b}{c}" for a in LETTERS for b in LETTERS for c in "QXZ"][:1200]
    invalid += [f"{d}{a}" for d in "0123456789" for a in LETTERS]
    invalid += [f"{a}\u00c4" for a in LETTERS]
    for n, cc in enumerate(invalid):
        add(FLOOD_QUERIES[n % 2], cc)
    raw = [search_event(e["event_id"], e["query"], e["country"],
                        **{k: v for k, v in e.items() if k not in ("event_id", "query", "country")})
           for e in events]
    raw += [b"{not json", b"[]", orjson.dumps({"event_id": "prom-bad-1", "country": "ID"}),
            orjson.dumps({"event_id": "prom-bad-2", "ts": "soon", "query": "kdrt", "country": "ID"})]
    return raw, events, set(invalid)


def lag_partitions(text: str, topic: str) -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    return {s.labels["partition"] for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == "gbv_consumer_lag" and s.labels.get("topic") == topic}


def partitions_split(workers: list[WorkerProcess], topic: str) -> bool:
    """Both workers own partitions, none twice, all covered: the group has settled."""
    owned = [lag_partitions(w.scrape(), topic) for w in workers]
    union = set().union(*owned)
    return all(owned) and sum(map(len, owned)) == len(union) == PARTITIONS


def counter_total(workers: list[WorkerProcess], *names: str) -> float:
    return sum(metric_value(w.scrape(), name) for w in workers for name in names)


@pytest.fixture(scope="module")
def stack(broker, tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus-stack")
    runtime = load_runtime_config(ROOT / "config")
    configured = sorted(runtime.registry.countries)
    languages = {cc: list(c.texts) for cc, c in runtime.registry.countries.items()}
    topics = TopicSet.unique("prom")
    asyncio.run(create_topics(broker.bootstrap, [topics.search, topics.notices, topics.dead_letters], PARTITIONS))
    workers = [WorkerProcess(broker.bootstrap, topics, work / f"worker-{i}.log") for i in range(2)]
    prometheus = PrometheusServer(work, [f"127.0.0.1:{w.metrics_port}" for w in workers])
    started_at = time.time()
    prometheus.start()
    try:
        for w in workers:
            w.start(wait=False)
        for w in workers:
            w.wait_ready(90)
        wait_until(lambda: partitions_split(workers, topics.search), 90, 0.5,
                   "both workers owning search partitions")
        wait_until(lambda: len(prometheus.vector("count by (instance) (gbv_notice_impressions_total)")) == 2, 30,
                   0.5, "Prometheus scraping both workers")
        settled_at = time.time()
        print(f"stack: workers settled after {settled_at - started_at:.1f}s")

        raw, events, invalid = known_stream(configured, languages)
        produce(broker.bootstrap, topics.search, raw)
        wait_until(lambda: counter_total(workers, "gbv_search_events_total", "gbv_dead_letters_total") == len(raw),
                   120, 0.5, "every event processed")
        # Impressions are counted once a batch's sends are acknowledged: wait until still.
        last = [None]

        def still() -> bool:
            now = counter_total(workers, "gbv_notice_impressions_total", "gbv_dead_letters_total")
            same, last[0] = now == last[0], now
            return same
        wait_until(still, 30, 1.0, "counters still")
        notices = [r.json() for r in consume(broker.bootstrap, topics.notices, timeout=60, idle=2.0)]
        dead = [r.json() for r in consume(broker.bootstrap, topics.dead_letters, timeout=60, idle=2.0)]
        assert notices, "no notice at all: is detection broken?"
        wait_until(lambda: prometheus.scalar("sum(gbv_notice_impressions_total)") == len(notices)
                   and prometheus.scalar("sum(gbv_search_events_total) + sum(gbv_dead_letters_total)") == len(raw),
                   30, 0.5, "Prometheus holding the final counts")
        # increase() extrapolates a series' last value over at most one scrape interval past
        # its last sample; with >= 30 s of samples and <= 10 notices per country and worker
        # that stays under a third of a notice.
        print(f"stack: {len(raw)} events, {len(notices)} notices, {len(dead)} dead letters, "
              f"all in Prometheus after {time.time() - started_at:.1f}s")
        time.sleep(max(0.0, settled_at + 30 - time.time()))
        yield Stack(prometheus, workers, topics, started_at, events, len(raw), invalid, notices, dead,
                    frozenset(configured))
    finally:
        for w in workers:
            w.kill()
        prometheus.stop()


# -- the numbers ---------------------------------------------------------------------------
def last_scrape_time(stack: Stack) -> float:
    """Timestamp of the most recent sample of the impressions counters (any worker)."""
    return max(v for _, v in stack.prometheus.vector("max by (instance) (timestamp(gbv_notice_impressions_total))"))


def test_impressions_per_country_query_returns_exactly_the_notices_sent(stack):
    expected = collections.Counter(n["country"] for n in stack.notices)
    assert len(expected) >= 5, expected                      # most countries showed notices
    panel = next(p for p in dashboard_panels() if p["title"] == RANGE_PANEL)
    expr = panel["targets"][0]["expr"]
    at = last_scrape_time(stack)
    range_ = f"{math.ceil(at - stack.started_at) + 60}s"     # the whole life of the counters
    got = stack.prometheus.by_label(grafana_substitute(expr, range_=range_), "country", at=at)
    print(f"impressions per country: panel {got}, notice topic {dict(expected)}")
    shown = {cc: round(v) for cc, v in got.items() if round(v)}
    assert shown == dict(expected), f"dashboard {got} vs notice topic {dict(expected)}"
    for cc, value in got.items():
        assert abs(value - expected.get(cc, 0)) < 0.5, (cc, value, expected.get(cc, 0))

    # One country selected in the $country variable: that country only.
    one = max(expected, key=expected.get)
    got_one = stack.prometheus.by_label(grafana_substitute(expr, range_=range_, country=one), "country", at=at)
    assert {cc: round(v) for cc, v in got_one.items()} == {one: expected[one]}

    # The counters themselves, summed over both workers, are exact.
    raw = stack.prometheus.by_label("sum by (country) (gbv_notice_impressions_total)", "country")
    assert {cc: int(v) for cc, v in raw.items() if v} == dict(expected)


def test_category_language_and_search_counts_match_the_topics(stack):
    p = stack.prometheus
    by_category = collections.Counter(n["category"] for n in stack.notices)
    got = p.by_label("sum by (category) (gbv_notice_impressions_total)", "category")
    assert {k: int(v) for k, v in got.items() if v} == dict(by_category)
    by_lang = collections.Counter((n["country"], n["language"]) for n in stack.notices)
    got = {(m["country"], m["language"]): int(v)
           for m, v in p.vector("sum by (country, language) (gbv_notice_impressions_total)") if v}
    assert got == dict(by_lang)

    valid = [e for e in stack.events if len(e["country"]) == 2 and e["country"].isascii() and e["country"].isalpha()]
    searches = collections.Counter(e["country"] if e["country"] in stack.configured else OTHER for e in valid)
    got = p.by_label("sum by (country) (gbv_search_events_total)", "country")
    assert {k: int(v) for k, v in got.items() if v} == dict(searches)

    reasons = collections.Counter(d["reason"] for d in stack.dead_letters)
    got = p.by_label("sum by (reason) (gbv_dead_letters_total)", "reason")
    assert {k: int(v) for k, v in got.items() if v} == dict(reasons)

    unsupported = [e for e in valid if e["country"] not in stack.configured and e["query"] in GBV_QUERIES]
    assert unsupported
    assert p.scalar("sum(gbv_unsupported_country_total)") == pytest.approx(
        len(unsupported) - sum(1 for n in stack.notices if n["search_event_id"] in {e["event_id"] for e in unsupported}))


def test_each_worker_exports_its_own_series_and_sums_cover_every_partition_once(stack):
    p = stack.prometheus
    instances = p.by_label("sum by (instance) (gbv_search_events_total)", "instance")
    assert len(instances) == 2 and all(v > 0 for v in instances.values()), instances
    info = p.vector("gbv_build_info")
    assert len(info) == 2 and {m["version"] for m, _ in info} == {worker.__version__}
    assert len({(m["detector_version"], m["config_version"]) for m, _ in info}) == 1
    owners = p.by_label(f'count by (partition) (gbv_consumer_lag{{topic="{stack.topics.search}"}})', "partition")
    assert owners == {str(i): 1.0 for i in range(PARTITIONS)}
    # Everything was processed: the lag drops to zero on the next lag tick (every 5 s).
    wait_until(lambda: p.scalar(f'sum(gbv_consumer_lag{{topic="{stack.topics.search}"}})') == 0, 30, 0.5,
               "consumer lag back to zero")
    p99 = p.scalar("histogram_quantile(0.99, sum by (le) (rate(gbv_event_to_notice_seconds_bucket[5m])))")
    assert p99 is not None and 0 < p99 <= 60


# -- every query of the shipped files ---------------------------------------------------------
def test_every_dashboard_query_runs_on_real_data(stack):
    failures = []
    for query in dashboard_queries():
        for country in (".*", "ID|MY"):
            expr = grafana_substitute(query.expr, country=country)
            try:
                data = stack.prometheus.query(expr)
            except AssertionError as exc:
                failures.append(f"{query.title} {query.ref}: {exc}")
                continue
            if not data["result"] and (query.title, query.ref) not in MAY_BE_EMPTY:
                failures.append(f"{query.title} {query.ref}: no data for {expr}")
    assert not failures, "\n".join(failures)


def test_every_alert_expression_is_valid_and_every_rule_is_loaded_healthy(stack):
    p = stack.prometheus
    for query in alert_queries():
        p.query(query.expr)                                     # raises on an invalid expression
    names = {rule["alert"] for rule in alert_rules()}

    def loaded() -> dict:
        rules = {r["name"]: r for g in p.api("rules")["groups"] for r in g["rules"]}
        return rules if names <= set(rules) and all(rules[n].get("lastEvaluation", "").startswith("20")
                                                    for n in names) else {}
    wait_until(lambda: bool(loaded()), 20, 0.5, "alert rules evaluated")
    rules = loaded()
    for name in names:
        assert rules[name]["health"] == "ok", (name, rules[name].get("lastError"))
    # Searches flow and both workers are up; the replay dead-lettered most of its events.
    assert rules["GbvNoSearchEvents"]["state"] == "inactive"
    assert rules["GbvWorkerDown"]["state"] == "inactive"
    assert rules["GbvNoticesStoppedForCountry"]["state"] == "inactive"
    assert rules["GbvDeadLetterRatioHigh"]["state"] in ("pending", "firing")


def test_hotline_freshness_alert_names_exactly_the_entries_past_the_limit(stack):
    """The alert's expression against the registry itself (limit: the default 180 days)."""
    expr = next(q.expr for q in alert_queries() if q.title == "GbvHotlineNotVerified")
    at = time.time()
    got = {(m["country"], m["hotline"]) for m, _ in stack.prometheus.vector(expr, at=at)}
    runtime = load_runtime_config(ROOT / "config")
    limit = 180 * 86400
    expected, borderline = set(), set()
    for cc, country in runtime.registry.countries.items():
        for h in country.hotlines.values():
            age = at - dt.datetime(h.verified_on.year, h.verified_on.month, h.verified_on.day,
                                   tzinfo=dt.timezone.utc).timestamp()
            (borderline if abs(age - limit) < 120 else expected if age > limit else set()).add((cc, h.id))
    assert got - borderline == expected - borderline


# -- the exposition itself ----------------------------------------------------------------------
def test_promtool_check_metrics_finds_no_problem_in_the_worker_output(stack):
    for text in stack.scrapes():
        result = subprocess.run([promtool_binary(), "check", "metrics"], input=text.encode(),
                                capture_output=True, timeout=30)
        assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), \
            (result.stdout + result.stderr).decode()


def test_no_query_string_or_identifier_reaches_the_metrics_or_prometheus(stack):
    secrets = {e["query"] for e in stack.events} | {e["event_id"] for e in stack.events} \
        | {e["session_id"] for e in stack.events}
    assert len(secrets) > 2 * 2000
    for text in stack.scrapes():
        lowered = text.lower()
        leaked = sorted(s for s in secrets if s.lower() in lowered)
        assert not leaked, f"/metrics shows stream content: {leaked[:5]}"
    p = stack.prometheus
    allowed = {"__name__", "instance", "job", "country", "language", "category", "notice_id", "reason", "topic",
               "partition", "version", "detector_version", "config_version", "hotline", "result", "operation", "le",
               "alertname", "alertstate", "severity"}              # the last three: Prometheus' ALERTS series
    labels = set(p.api("labels"))
    assert labels <= allowed, labels - allowed
    for label in labels - {"__name__"}:
        values = p.api(f"label/{label}/values")
        assert not set(values) & secrets, label
        assert not any(q in v for v in values for q in GBV_QUERIES + NOT_GBV_QUERIES), label


def test_thousands_of_invalid_countries_leave_the_series_count_bounded(stack):
    from worker.metrics import Metrics

    assert len(stack.invalid_countries) >= 2000
    p = stack.prometheus
    countries = set(p.api("label/country/values"))
    assert countries <= set(stack.configured) | {OTHER}
    assert p.scalar("count(gbv_search_events_total)") == 2 * (len(stack.configured) + 1)
    assert p.scalar("sum(gbv_search_events_total{country=\"other\"})") >= 600
    # Per worker: the series of a fresh worker plus a handful (dead-letter reasons, lag
    # partitions, histogram buckets are already there).
    runtime = load_runtime_config(ROOT / "config")
    fresh = Metrics()
    fresh.set_config(runtime.registry, runtime.detector_version, runtime.config_version, 180)
    base = sum(1 for line in fresh.exposition().decode().splitlines() if line and not line.startswith("#"))
    for text in stack.scrapes():
        series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        assert series <= base + 20, (series, base)
    total = p.scalar('count({__name__=~"gbv_.+"})')
    assert total <= 2 * (base + 20)
