"""The one metrics module: aggregates with bounded labels, nothing per user.

Labels are drawn from closed sets: `country` is a configured country or `other`,
`reason` is a dead-letter reason code, `category`/`language`/`notice_id` come from
configuration. No query text, user id or session id is ever a label value.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

import worker
from worker.notices.registry import HotlineRegistry

OTHER = "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
PROCESSING_BUCKETS = (0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                      0.005, 0.01, 0.05)


class Metrics:
    """All series of one worker process, on their own registry (tests may build several)."""

    content_type = CONTENT_TYPE_LATEST

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
        self.processing = Histogram("gbv_processing_seconds", "Time to parse, detect and choose a notice per event.",
                                    buckets=PROCESSING_BUCKETS, registry=r)
        self.event_to_notice = Histogram(
            "gbv_event_to_notice_seconds", "From the search event's ts to the notice's acknowledged send.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.consumer_lag = Gauge("gbv_consumer_lag", "Messages not yet processed, per topic partition.",
                                  ["topic", "partition"], registry=r)
        self.build_info = Gauge("gbv_build_info", "Build and configuration versions (value is always 1).",
                                ["version", "detector_version", "config_version"], registry=r)
        self.verification_age = Gauge(
            "gbv_hotline_verification_age_days", "Days since each hotline entry was last verified.",
            ["country", "hotline"], registry=r)
        self.freshness_limit = Gauge("gbv_hotline_freshness_limit_days",
                                     "Age after which a hotline entry counts as stale (GBV_FRESHNESS_DAYS).",
                                     registry=r)
        self.config_reloads = Counter("gbv_config_reloads", "Configuration reloads, by result.", ["result"],
                                      registry=r)
        self.broker_errors = Counter("gbv_broker_errors",
                                     "Failed sends or broker requests (the batch is retried), by operation.",
                                     ["operation"], registry=r)
        for result in ("ok", "rejected"):
            self.config_reloads.labels(result)
        self._countries: frozenset[str] = frozenset()
        self._search_children: dict[str, object] = {}
        self._impression_children: dict[tuple, object] = {}
        self._build_labels: tuple[str, str, str] | None = None

    # -- configuration -------------------------------------------------------------------
    def set_config(self, registry: HotlineRegistry, detector_version: str, config_version: str,
                   freshness_days: int, today: dt.date | None = None) -> None:
        """Called at start and on every accepted reload."""
        self._countries = frozenset(registry.countries)
        self._search_children = {}
        for country in sorted(self._countries | {OTHER}):
            self.search_events.labels(country)
        if self._build_labels:
            self.build_info.remove(*self._build_labels)
        self._build_labels = (worker.__version__, detector_version, config_version)
        self.build_info.labels(*self._build_labels).set(1)
        self.verification_age.clear()
        for entry in registry.verification_ages(today or dt.date.today()):
            self.verification_age.labels(entry.country, entry.hotline_id).set(entry.age_days)
        self.freshness_limit.set(freshness_days)

    def country_label(self, country: str) -> str:
        return country if country in self._countries else OTHER

    # -- per event -----------------------------------------------------------------------
    def count_search(self, country: str) -> None:
        label = country if country in self._countries else OTHER
        child = self._search_children.get(label)
        if child is None:
            child = self._search_children[label] = self.search_events.labels(label)
        child.inc()

    def count_impression(self, country: str, language: str, category: str, notice_id: str) -> None:
        key = (country, language, category, notice_id)
        child = self._impression_children.get(key)
        if child is None:
            child = self._impression_children[key] = self.impressions.labels(
                self.country_label(country), language, category, notice_id)
        child.inc()

    def count_dead_letter(self, reason: str) -> None:
        self.dead_letters.labels(reason).inc()

    def set_lag(self, lags: Iterable[tuple[str, int, int]]) -> None:
        for topic, partition, lag in lags:
            self.consumer_lag.labels(topic, str(partition)).set(lag)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
