"""worker.metrics on its own: bounded labels, lag bookkeeping, a lint-clean exposition."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from prom_helpers import ROOT, promtool_binary
import re

from worker.metrics import KNOWN_REASONS, MAX_REASONS, OTHER, Metrics
from worker.runtime import load_runtime_config


@pytest.fixture(scope="module")
def runtime():
    return load_runtime_config(ROOT / "config")


@pytest.fixture
def metrics(runtime):
    m = Metrics()
    m.set_config(runtime.registry, runtime.detector_version, runtime.config_version, 180)
    return m


def samples(metrics: Metrics, name: str) -> list:
    text = metrics.exposition().decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


def series_count(metrics: Metrics) -> int:
    return sum(1 for line in metrics.exposition().decode().splitlines() if line and not line.startswith("#"))


def test_thousands_of_distinct_countries_and_reasons_keep_the_series_count_bounded(metrics, runtime):
    before = series_count(metrics)
    configured = set(runtime.registry.countries)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = [a + b for a in letters for b in letters] + [f"{a}{b}{c}" for a in letters for b in letters for c in "XYZ"]
    assert len(codes) > 2500
    for code in codes:
        metrics.count_search(code)
        metrics.count_dead_letter(f"bad_value:{code.lower()}")      # a would-be unbounded reason
        metrics.count_dead_letter(f"query was {code} hotline")       # free text never becomes a label
    countries = {s.labels["country"] for s in samples(metrics, "gbv_search_events_total")}
    assert countries == configured | {OTHER}
    assert metric_sum(metrics, "gbv_search_events_total", country=OTHER) == len(set(codes) - configured)
    reasons = {s.labels["reason"] for s in samples(metrics, "gbv_dead_letters_total")}
    assert len(reasons) <= MAX_REASONS + 1 and OTHER in reasons
    assert not any(" " in r for r in reasons)
    assert series_count(metrics) <= before + MAX_REASONS + 1


def metric_sum(metrics: Metrics, name: str, **labels) -> float:
    return sum(s.value for s in samples(metrics, name) if all(s.labels.get(k) == v for k, v in labels.items()))


def test_impressions_of_unconfigured_countries_fold_into_other(metrics):
    metrics.count_impression("ZZ", "en", "harassment", "ZZ.harassment.en")
    assert metric_sum(metrics, "gbv_notice_impressions_total", country=OTHER) == 1
    assert metric_sum(metrics, "gbv_notice_impressions_total", country="ZZ") == 0


def test_every_configured_impression_series_starts_at_zero(metrics, runtime):
    """So that increase() counts a fresh worker's first notices too."""
    first = samples(metrics, "gbv_notice_impressions_total")
    assert first and all(s.value == 0 for s in first)
    for cc, country in runtime.registry.countries.items():
        for language in country.texts:
            assert any(s.labels == {"country": cc, "language": language, "category": "domestic_violence",
                                    "notice_id": f"{cc}.domestic_violence.{language}"} for s in first)


def test_precreated_impression_labels_are_the_ones_notice_selection_produces(metrics, runtime):
    from worker.events import SearchEvent
    from worker.notices.selection import choose_notice

    first = {tuple(s.labels[k] for k in ("country", "language", "category", "notice_id"))
             for s in samples(metrics, "gbv_notice_impressions_total")}
    for cc, country in runtime.registry.countries.items():
        for language in country.texts:
            event = SearchEvent("e1", 1795806900000, "q", cc, locale=f"{language}-{cc}")
            notice = choose_notice(runtime.registry, event, "stalking", "d", "c")
            assert (notice.country, notice.language, notice.category, notice.notice_id) in first


def test_lag_of_partitions_given_up_in_a_rebalance_disappears(metrics):
    metrics.set_lag([("search", 0, 5), ("search", 1, 7)])
    metrics.set_lag([("search", 1, 2)])
    lag = {s.labels["partition"]: s.value for s in samples(metrics, "gbv_consumer_lag")}
    assert lag == {"1": 2}
    metrics.set_lag([])
    assert samples(metrics, "gbv_consumer_lag") == []


def test_build_info_and_freshness_are_in_base_units(metrics, runtime):
    info = samples(metrics, "gbv_build_info")
    assert len(info) == 1 and info[0].value == 1
    assert info[0].labels["config_version"] == runtime.config_version
    assert metric_sum(metrics, "gbv_hotline_freshness_limit_seconds") == 180 * 86400
    verified = {(s.labels["country"], s.labels["hotline"]): s.value
                for s in samples(metrics, "gbv_hotline_verified_timestamp_seconds")}
    hotline = next(iter(runtime.registry.countries["ID"].hotlines.values()))
    day = hotline.verified_on
    assert verified[("ID", hotline.id)] == dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()


def test_content_type_is_the_prometheus_text_format_aiohttp_accepts():
    assert Metrics.content_type.startswith("text/plain; version=0.0.4")
    assert "charset" not in Metrics.content_type       # aiohttp refuses a charset inside content_type


@pytest.mark.skipif(promtool_binary() is None, reason="promtool missing")
def test_promtool_check_metrics_finds_no_problem_in_a_busy_exposition(metrics):
    metrics.count_search("ID")
    metrics.count_impression("ID", "id", "domestic_violence", "ID.domestic_violence.id")
    metrics.count_dead_letter("invalid_json")
    metrics.unsupported_country.inc()
    metrics.processing.observe(0.0002)
    metrics.event_to_notice.observe(0.3)
    metrics.set_lag([("search", 0, 3)])
    metrics.broker_errors.labels("send").inc()
    result = subprocess.run([promtool_binary(), "check", "metrics"], input=metrics.exposition(),
                            capture_output=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), \
        result.stdout.decode() + result.stderr.decode()


def test_every_reason_code_the_parser_can_raise_is_exported_from_the_start(metrics):
    source = (ROOT / "worker" / "events.py").read_text()
    literal = set(re.findall(r'InvalidEvent\("([a-z_:]+)"\)', source))
    templated = set(re.findall(r'InvalidEvent\(f"([a-z_]+):\{name\}"\)', source))
    optional = set(re.findall(r'_optional_str\(obj, "([a-z_]+)"\)', source))
    codes = literal | {f"{prefix}:{field}" for prefix in templated for field in optional}
    assert literal and templated and optional
    assert codes <= set(KNOWN_REASONS), codes - set(KNOWN_REASONS)
    exported = {s.labels["reason"]: s.value for s in samples(metrics, "gbv_dead_letters_total")}
    assert exported == {reason: 0.0 for reason in KNOWN_REASONS}
