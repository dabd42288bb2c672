"""A real Prometheus server for tests, and the PromQL shipped in config/ (dashboard + alerts).

Prometheus is the Debian `prometheus` binary, started on a free 127.0.0.1 port with a
temporary configuration and TSDB; a system Prometheus that may run on :9090 is never used.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from worker.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "config" / "prometheus"
PROMETHEUS_YML = PROMETHEUS_DIR / "prometheus.yml"
ALERTS_YML = PROMETHEUS_DIR / "alerts.yml"
GRAFANA_DIR = ROOT / "config" / "grafana"
DASHBOARD_JSON = GRAFANA_DIR / "dashboards" / "gbv-notices.json"
JOB = "gbv-worker"      # the job name the shipped alert rules and dashboard refer to


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)


def promtool_binary() -> str | None:
    return shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)


# -- the shipped PromQL ----------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    source: str          # "dashboard" or "alerts"
    title: str           # panel title / alert name
    ref: str             # target refId ("A") or "expr"
    expr: str


def dashboard() -> dict:
    return json.loads(DASHBOARD_JSON.read_text())


def dashboard_panels(board: dict | None = None) -> list[dict]:
    panels = []
    for panel in (board or dashboard())["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))          # collapsed rows keep their panels inside
    return panels


def dashboard_queries(board: dict | None = None) -> list[Query]:
    return [Query("dashboard", panel["title"], target["refId"], target["expr"])
            for panel in dashboard_panels(board) for target in panel.get("targets", []) if target.get("expr")]


def alert_rules() -> list[dict]:
    doc = yaml.safe_load(ALERTS_YML.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def alert_queries() -> list[Query]:
    return [Query("alerts", rule.get("alert") or rule.get("record"), "expr", rule["expr"].strip())
            for rule in alert_rules()]


def grafana_substitute(expr: str, *, country: str = ".*", rate_interval: str = "1m", range_: str = "10m",
                       interval: str = "15s") -> str:
    """What Grafana sends to Prometheus: variables replaced by concrete values ($country's
    All value is `.*`, as configured in the dashboard)."""
    values = {"__rate_interval": rate_interval, "__range": range_, "__interval": interval, "country": country}
    out = expr
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        out = out.replace("${" + name + "}", value).replace("$" + name, value)
    if "$" in out:
        raise AssertionError(f"unsubstituted Grafana variable in {out!r}")
    return out


METRIC_NAME = re.compile(r"\b(gbv_[a-z0-9_]+|up)\b")


def metric_names(expr: str) -> set[str]:
    return set(METRIC_NAME.findall(expr))


# -- the server ----------------------------------------------------------------------------
class PromQLError(AssertionError):
    pass


@dataclass
class PrometheusServer:
    workdir: Path
    targets: list[str]
    rule_files: list[Path] = field(default_factory=lambda: [ALERTS_YML])
    interval: str = "1s"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    def write_config(self) -> Path:
        config = {
            "global": {"scrape_interval": self.interval, "scrape_timeout": self.interval,
                       "evaluation_interval": self.interval},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [{"job_name": JOB, "metrics_path": "/metrics",
                                "static_configs": [{"targets": list(self.targets)}]}],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self, timeout: float = 30.0) -> "PrometheusServer":
        binary = prometheus_binary()
        assert binary, "the prometheus binary is missing (Debian package `prometheus`; make system-deps)"
        config = self.write_config()
        (self.workdir / "tsdb").mkdir(exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(self.workdir))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"prometheus not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # -- HTTP API ------------------------------------------------------------------------
    def api(self, path: str, params: dict | Iterable[tuple[str, str]] | None = None) -> dict:
        query = urllib.parse.urlencode(params or {})
        url = f"{self.url}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
        if body.get("status") != "success":
            raise PromQLError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> dict:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("query", params)

    def vector(self, expr: str, at: float | None = None) -> list[tuple[dict, float]]:
        data = self.query(expr, at)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        assert data["resultType"] == "vector", data["resultType"]
        return [(item["metric"], float(item["value"][1])) for item in data["result"]]

    def by_label(self, expr: str, label: str, at: float | None = None) -> dict[str, float]:
        return {metric.get(label, ""): value for metric, value in self.vector(expr, at)}

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        values = self.vector(expr, at)
        return values[0][1] if values else None

    def targets_up(self) -> dict[str, str]:
        data = self.api("targets")
        return {t["labels"]["instance"]: t["health"] for t in data["activeTargets"]}
