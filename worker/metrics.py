"""The one metrics module: aggregates with bounded labels, nothing per user.

Labels are drawn from closed sets: `country` is a configured country or `other`,
`reason` is a dead-letter reason code, `category`/`language`/`notice_id` come from
configuration. No query text, user id or session id is ever a label value.

Names follow the Prometheus conventions: base units (seconds), `_total` on counters,
`_info` for the build gauge, `_timestamp_seconds` for points in time. The metric
reference and the alerts built on these series are in docs/metrics.md.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from typing import Iterable, Mapping

from prometheus_client.core import HistogramMetricFamily
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

import worker
from worker.categories import CATEGORIES
from worker.notices.registry import HotlineRegistry

# The `*_created` companion series double the exposition and nothing here reads them.
disable_created_metrics()

OTHER = "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
PROCESSING_BUCKETS = (0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                      0.005, 0.01, 0.05, 0.1, 0.25, 1)
# Dead-letter reasons are short codes from worker.events ("invalid_json", "bad_value:country").
# Anything else, and anything past MAX_REASONS distinct codes (the known ones included), is
# counted as "other".
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}(:[a-z][a-z0-9_]{0,31})?$")
MAX_REASONS = 64
# The reason codes worker.events.parse_search_event produces, exported at 0 from the start
# so that rate() sees a first burst of dead letters too. A new code is still counted.
_EVENT_FIELDS = ("event_id", "ts", "query", "country")
_OPTIONAL_FIELDS = ("locale", "session_id", "surface")
KNOWN_REASONS = (("empty", "too_large", "invalid_utf8", "invalid_json", "not_an_object")
                 + tuple(f"missing_field:{f}" for f in _EVENT_FIELDS)
                 + tuple(f"bad_type:{f}" for f in _EVENT_FIELDS + _OPTIONAL_FIELDS)
                 + tuple(f"bad_value:{f}" for f in _EVENT_FIELDS + _OPTIONAL_FIELDS))
SECONDS_PER_DAY = 86400


def date_timestamp(day: dt.date) -> float:
    """Unix time of 00:00 UTC on `day`."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()


class PerEventHistogram:
    """A histogram for the per-event hot path: plain integers, no lock (the worker is one
    asyncio thread), and `observe_many` for a chunk's durations at once. prometheus_client's
    Histogram takes a lock per observation, which costs more than parsing the event."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], registry) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = tuple(buckets)
        self.counts = [0] * (len(self.bounds) + 1)     # last slot: above the largest bound
        self.total = 0.0
        registry.register(self)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def observe_many(self, values: Iterable[float]) -> None:
        counts, bounds = self.counts, self.bounds
        total = 0.0
        for value in values:
            counts[bisect_left(bounds, value)] += 1
            total += value
        self.total += total

    def describe(self):
        return [HistogramMetricFamily(self.name, self.documentation)]

    def collect(self):
        cumulative, running = [], 0
        for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts):
            running += count
            cumulative.append((bound, running))
        family = HistogramMetricFamily(self.name, self.documentation)
        family.add_metric([], cumulative, self.total)
        yield family


class Metrics:
    """All series of one worker process, on their own registry (tests may build several)."""

    # Prometheus text format 0.0.4, which every Prometheus 2.x scrapes. No charset parameter:
    # aiohttp refuses one inside content_type, and the format is UTF-8 by definition.
    content_type = "text/plain; version=0.0.4"

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.search_events = Counter("gbv_search_events", "Valid search events processed, by country.",
                                     ["country"], registry=r)
        self.impressions = Counter(
            "gbv_notice_impressions",
            "Notice-display events sent (acknowledged by the broker).",
            ["country", "language", "category", "notice_id"], registry=r)
        self.dead_letters = Counter("gbv_dead_letters", "Events sent to the dead-letter topic, by reason.",
                                    ["reason"], registry=r)
        self.unsupported_country = Counter(
            "gbv_unsupported_country", "GBV searches from a country without configuration (no notice shown).",
            registry=r)
        self.processing = PerEventHistogram("gbv_processing_seconds",
                                            "Time to parse, detect and choose a notice per event.",
                                            PROCESSING_BUCKETS, r)
        self.event_to_notice = Histogram(
            "gbv_event_to_notice_seconds", "From the search event's ts to the notice's acknowledged send.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.consumer_lag = Gauge(
            "gbv_consumer_lag",
            "Search events not yet processed (log end offset minus committed offset), per partition "
            "this worker owns.", ["topic", "partition"], registry=r)
        self.fetch_wait = Gauge(
            "gbv_consumer_fetch_wait_seconds",
            "How long the broker may hold the worker's next fetch; raised while the broker answers "
            "fetches with no records although records are pending (a slow broker).", registry=r)
        self.build_info = Gauge("gbv_build_info", "Build and configuration versions (value is always 1).",
                                ["version", "detector_version", "config_version"], registry=r)
        self.verified_at = Gauge(
            "gbv_hotline_verified_timestamp_seconds",
            "When each hotline entry was last verified (00:00 UTC of its verified_on date), Unix time.",
            ["country", "hotline"], registry=r)
        self.freshness_limit = Gauge(
            "gbv_hotline_freshness_limit_seconds",
            "Age after which a hotline entry counts as stale (GBV_FRESHNESS_DAYS, in seconds).", registry=r)
        self.config_reloads = Counter("gbv_config_reloads", "Configuration reloads, by result.", ["result"],
                                      registry=r)
        self.broker_errors = Counter("gbv_broker_errors",
                                     "Failed sends or broker requests (the batch is retried), by operation.",
                                     ["operation"], registry=r)
        for result in ("ok", "rejected"):
            self.config_reloads.labels(result)
        for operation in ("send", "lag"):       # topology: notice/dead-letter sends, lag requests
            self.broker_errors.labels(operation)
        for reason in KNOWN_REASONS:
            self.dead_letters.labels(reason)
        self._countries: frozenset[str] = frozenset()
        self._search_children: dict[str, object] = {}
        self._impression_children: dict[tuple, object] = {}
        self._reasons: set[str] = set(KNOWN_REASONS)
        self._lag_labels: set[tuple[str, str]] = set()
        self._build_labels: tuple[str, str, str] | None = None

    # -- configuration -------------------------------------------------------------------
    def set_config(self, registry: HotlineRegistry, detector_version: str, config_version: str,
                   freshness_days: int, today: dt.date | None = None) -> None:
        """Called at start and on every accepted reload.

        Every series a configured country can produce starts at 0, so that `increase()` and
        `rate()` also count the first events of a fresh worker (a series that appears with
        value 3 would lose those 3)."""
        self._countries = frozenset(registry.countries)
        self._search_children = {}
        for country in sorted(self._countries | {OTHER}):
            self._search_children[country] = self.search_events.labels(country)
        for cc, country in sorted(registry.countries.items()):
            for language in country.texts:
                for category in CATEGORIES:
                    # notice_id as worker.notices.selection.choose_notice builds it
                    self._impression_child(cc, language, category, f"{cc}.{category}.{language}")
        if self._build_labels:
            self.build_info.remove(*self._build_labels)
        self._build_labels = (worker.__version__, detector_version, config_version)
        self.build_info.labels(*self._build_labels).set(1)
        self.verified_at.clear()
        for cc, country in sorted(registry.countries.items()):
            for hotline in country.hotlines.values():
                self.verified_at.labels(cc, hotline.id).set(date_timestamp(hotline.verified_on))
        self.freshness_limit.set(freshness_days * SECONDS_PER_DAY)

    def country_label(self, country: str) -> str:
        return country if country in self._countries else OTHER

    # -- per event -----------------------------------------------------------------------
    def count_search(self, country: str) -> None:
        label = country if country in self._countries else OTHER
        child = self._search_children.get(label)
        if child is None:
            child = self._search_children[label] = self.search_events.labels(label)
        child.inc()

    def count_searches(self, counts: Mapping[str, int]) -> None:
        """A chunk's valid events by country, counted once per country."""
        for country, n in counts.items():
            label = country if country in self._countries else OTHER
            child = self._search_children.get(label)
            if child is None:
                child = self._search_children[label] = self.search_events.labels(label)
            child.inc(n)

    def _impression_child(self, country: str, language: str, category: str, notice_id: str):
        key = (country, language, category, notice_id)
        child = self._impression_children.get(key)
        if child is None:
            child = self._impression_children[key] = self.impressions.labels(
                self.country_label(country), language, category, notice_id)
        return child

    def count_impression(self, country: str, language: str, category: str, notice_id: str) -> None:
        self._impression_child(country, language, category, notice_id).inc()

    def count_dead_letter(self, reason: str) -> None:
        if reason not in self._reasons:
            if not _REASON.match(reason or "") or len(self._reasons) >= MAX_REASONS:
                reason = OTHER
            self._reasons.add(reason)
        self.dead_letters.labels(reason).inc()

    def set_lag(self, lags: Iterable[tuple[str, int, int]]) -> None:
        """The lag of every partition this worker owns now; partitions it gave up (rebalance)
        are removed, so summing over workers counts each partition once."""
        current: set[tuple[str, str]] = set()
        for topic, partition, lag in lags:
            labels = (topic, str(partition))
            current.add(labels)
            self.consumer_lag.labels(*labels).set(lag)
        for labels in self._lag_labels - current:
            try:
                self.consumer_lag.remove(*labels)
            except KeyError:
                pass
        self._lag_labels = current

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
