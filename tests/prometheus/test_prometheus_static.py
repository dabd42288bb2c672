"""The shipped Prometheus and Grafana files, checked without a running stack: promtool on the
config and rules, promtool unit tests of the alerts, PromQL syntax of every dashboard query,
and that every metric the files name is one the worker exports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from prom_helpers import (ALERTS_YML, DASHBOARD_JSON, GRAFANA_DIR, JOB, PROMETHEUS_YML, ROOT, alert_queries,
                          alert_rules, dashboard, dashboard_panels, dashboard_queries, grafana_substitute,
                          metric_names, promtool_binary)

pytestmark = pytest.mark.skipif(promtool_binary() is None, reason="promtool missing (make system-deps)")
HERE = Path(__file__).resolve().parent


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool_binary(), *args], input=stdin, capture_output=True, timeout=60, cwd=str(ROOT))


def test_promtool_check_config_passes_on_the_shipped_prometheus_yml():
    result = promtool("check", "config", str(PROMETHEUS_YML))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert b"1 rule files found" in result.stdout + result.stderr


def test_promtool_check_rules_passes_on_the_shipped_alerts():
    result = promtool("check", "rules", str(ALERTS_YML))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_alerts_fire_exactly_in_their_scenarios():
    """promtool test rules: each alert fires on its failure and stays quiet on look-alikes."""
    result = promtool("test", "rules", str(HERE / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_the_issue_alerts_are_all_there_with_severity_summary_and_runbook():
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert {"GbvNoSearchEvents", "GbvNoticesStoppedForCountry", "GbvDeadLetterRatioHigh",
            "GbvConsumerLagGrowing", "GbvHotlineNotVerified"} <= set(rules)
    doc = (ROOT / "docs" / "metrics.md").read_text()
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert f"### {name}" in doc and anchor == name.lower(), f"{name}: no section in docs/metrics.md"


def test_every_dashboard_query_is_valid_promql(tmp_path):
    """Static syntax check: every query, with Grafana's variables filled in, as a recording
    rule through `promtool check rules` (the live test runs them against real data)."""
    queries = dashboard_queries()
    assert len(queries) >= 20
    rules = [{"record": f"dashboard:query_{i}:{q.ref.lower()}", "expr": grafana_substitute(q.expr, country=country)}
             for i, q in enumerate(queries) for country in (".*", "ID|MY")]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def exported_metric_names() -> set[str]:
    """Every sample name the worker can export (a fresh Metrics with the shipped config)."""
    from worker.metrics import Metrics
    from worker.runtime import load_runtime_config

    runtime = load_runtime_config(ROOT / "config")
    metrics = Metrics()
    metrics.set_config(runtime.registry, runtime.detector_version, runtime.config_version, 180)
    names = set()
    for family in metrics.registry.collect():
        base = family.name + ("_total" if family.type == "counter" else "")
        names.add(base)
        if family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_count", f"{family.name}_sum"}
    return names


def test_every_metric_named_in_dashboard_and_alerts_is_exported_by_the_worker():
    exported = exported_metric_names() | {"up"}
    for query in dashboard_queries() + alert_queries():
        unknown = metric_names(query.expr) - exported
        assert not unknown, f"{query.source} {query.title!r} uses {unknown}, which the worker does not export"
    # and the issue's metrics are all exported, with the names it asks for
    assert {"gbv_search_events_total", "gbv_notice_impressions_total", "gbv_dead_letters_total",
            "gbv_unsupported_country_total", "gbv_processing_seconds_bucket", "gbv_event_to_notice_seconds_bucket",
            "gbv_consumer_lag", "gbv_build_info", "gbv_hotline_verified_timestamp_seconds"} <= exported


def test_dashboard_has_the_promised_panels_and_uses_the_datasource_variable():
    board = dashboard()
    panels = [p for p in dashboard_panels(board) if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    for wanted in ("Impressions per country (total in range)", "Impressions per country (per minute)",
                   "Impression rate as a share of searches, per country", "Impressions by category (total in range)",
                   "Impressions by country and language (total in range)", "Dead letters by reason (per minute)",
                   "Event-to-notice latency (p50, p99)", "Consumer lag per partition", "Build info"):
        assert wanted in titles
    ids = [p["id"] for p in dashboard_panels(board)]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["country"]["allValue"] == ".*" and variables["country"]["includeAll"]
    # country-level panels aggregate over workers with sum by (country)
    by_title = {p["title"]: p for p in panels}
    assert by_title["Impressions per country (total in range)"]["targets"][0]["expr"].startswith("sum by (country) (")
    json.dumps(board)  # serialisable as-is


def test_grafana_provisioning_matches_the_dashboard_and_docker_compose():
    datasources = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    prometheus = next(d for d in datasources["datasources"] if d["type"] == "prometheus")
    assert prometheus["name"] == "Prometheus"
    default = next(v for v in dashboard()["templating"]["list"] if v["name"] == "datasource")["current"]["value"]
    assert prometheus["uid"] == default
    assert prometheus["url"] == "http://prometheus:9090"

    providers = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "gbv.yml").read_text())["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./config/grafana/dashboards"] == providers[0]["options"]["path"]
    assert mounts["./config/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert DASHBOARD_JSON.parent == ROOT / "config" / "grafana" / "dashboards"


def test_prometheus_yml_scrapes_the_compose_worker_service_on_its_metrics_port():
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == JOB)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]
    port = int(worker["environment"].get("GBV_METRICS_PORT", 9108))
    sd = job["dns_sd_configs"][0]
    assert sd["names"] == ["worker"] and sd["port"] == port and str(port) in [str(p) for p in worker["expose"]]
    prometheus = compose["services"]["prometheus"]
    assert "./config/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert config["rule_files"] == ["alerts.yml"]
