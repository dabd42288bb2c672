"""The one settings object. Every knob is an environment variable with a default.

`Settings.from_env()` reads them; the README table is generated from `FIELDS`
(`gbv-worker settings` prints it), and the docker-compose test checks that every
variable the compose file sets is one of these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from worker.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


@dataclass(frozen=True)
class Field:
    env: str
    default: str
    parse: Callable[[str], Any]
    doc: str
    secret: bool = False


# name -> (environment variable, default, parser, meaning). Order is the README's order.
FIELDS: dict[str, Field] = {
    "bootstrap_servers": Field("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", str,
                               "Kafka bootstrap servers, comma-separated host:port."),
    "search_topic": Field("GBV_SEARCH_TOPIC", "search-events", str, "Input topic of search events."),
    "notice_topic": Field("GBV_NOTICE_TOPIC", "notice-displays", str, "Output topic of notice displays."),
    "dlq_topic": Field("GBV_DLQ_TOPIC", "search-events-dlq", str, "Dead-letter topic for bad input."),
    "metrics_port": Field("GBV_METRICS_PORT", "9108", int,
                          "Port of the worker's web server; Prometheus scrapes /metrics there."),
    "metrics_host": Field("GBV_METRICS_HOST", "0.0.0.0", str, "Bind address of that web server."),
    "config_dir": Field("GBV_CONFIG_DIR", "config/", str,
                        "Directory with countries/ and lexicons/ (relative paths resolve "
                        "against the working directory, then the project)."),
    "group_id": Field("GBV_GROUP_ID", "gbv-worker", str,
                      "Consumer group and Faust app id; workers with the same id share the load."),
    "topic_partitions": Field("GBV_TOPIC_PARTITIONS", "4", int,
                              "Partitions for topics the worker creates."),
    "max_event_bytes": Field("GBV_MAX_EVENT_BYTES", "65536", int,
                             "Search events larger than this are dead-lettered as too_large."),
    "max_poll_records": Field("GBV_MAX_POLL_RECORDS", "2000", int,
                              "Most records one fetch hands the agent; they are handled as one chunk and "
                              "their offsets advance once the chunk's sends are acknowledged."),
    "fetch_max_wait_ms": Field("GBV_FETCH_MAX_WAIT_MS", "10", int,
                               "Shortest time the broker may hold a fetch that finds no new records (Faust "
                               "fixes 1500). Short keeps latency low on brokers that hold a fetch for the full "
                               "wait (Tansu). The worker doubles it, up to GBV_FETCH_WAIT_CEILING_MS, while "
                               "fetches come back empty although records are pending (docs/operations.md)."),
    "fetch_wait_ceiling_ms": Field("GBV_FETCH_WAIT_CEILING_MS", "1500", int,
                                   "Longest fetch wait the worker raises GBV_FETCH_MAX_WAIT_MS to."),
    "session_timeout_s": Field("GBV_SESSION_TIMEOUT_S", "10", float,
                               "Consumer-group session and rebalance timeout."),
    "broker_wait_s": Field("GBV_BROKER_WAIT_S", "60", float,
                           "At start, how long to wait for an unreachable broker before exiting with code 3 "
                           "(wrong credentials or TLS problems exit at once)."),
    "freshness_days": Field("GBV_FRESHNESS_DAYS", "180", int,
                            "Hotline entries verified longer ago than this are reported as stale."),
    "security_protocol": Field("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", str,
                               "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."),
    "sasl_mechanism": Field("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", str,
                            "SASL mechanism when the protocol is SASL_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."),
    "sasl_username": Field("KAFKA_SASL_USERNAME", "", str, "SASL user name."),
    "sasl_password": Field("KAFKA_SASL_PASSWORD", "", str, "SASL password (never logged).", secret=True),
    "ssl_cafile": Field("KAFKA_SSL_CAFILE", "", str,
                        "CA bundle that signed the broker's certificate (SSL and SASL_SSL)."),
    "reload_on_change": Field("GBV_RELOAD_ON_CHANGE", "false", _bool,
                              "Also reload configuration when a file under GBV_CONFIG_DIR changes "
                              "(SIGHUP always reloads)."),
}


@dataclass(frozen=True)
class Settings:
    bootstrap_servers: str
    search_topic: str
    notice_topic: str
    dlq_topic: str
    metrics_port: int
    metrics_host: str
    config_dir: str
    group_id: str
    topic_partitions: int
    max_event_bytes: int
    max_poll_records: int
    fetch_max_wait_ms: int
    fetch_wait_ceiling_ms: int
    session_timeout_s: float
    broker_wait_s: float
    freshness_days: int
    security_protocol: str
    sasl_mechanism: str
    sasl_username: str
    sasl_password: str
    ssl_cafile: str
    reload_on_change: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, spec in FIELDS.items():
            raw = environ.get(spec.env) or spec.default     # set-but-empty means the default
            try:
                values[name] = spec.parse(raw)
            except ValueError as exc:
                shown = "(hidden)" if spec.secret else repr(raw)
                raise ConfigError("environment", spec.env, f"{shown} is not valid: {exc}") from None
        values.update(overrides)
        if not 0 <= values["fetch_max_wait_ms"] <= values["fetch_wait_ceiling_ms"]:
            raise ConfigError("environment", "GBV_FETCH_WAIT_CEILING_MS",
                              f"{values['fetch_wait_ceiling_ms']} must be at least GBV_FETCH_MAX_WAIT_MS "
                              f"({values['fetch_max_wait_ms']}), which must be at least 0")
        return cls(**values)

    @property
    def config_path(self) -> Path:
        """GBV_CONFIG_DIR resolved: as given if it exists, else against the project root."""
        path = Path(self.config_dir)
        if path.is_absolute() or path.exists():
            return path
        return PACKAGE_ROOT / path

    @property
    def broker_url(self) -> str:
        return ";".join(f"kafka://{host.strip()}" for host in self.bootstrap_servers.split(",") if host.strip())

    def describe(self) -> dict[str, Any]:
        """Settings for logs: secrets masked."""
        shown = {}
        for f in fields(self):
            value = getattr(self, f.name)
            shown[f.name] = "***" if FIELDS[f.name].secret and value else value
        return shown


ENV_VARS = frozenset(spec.env for spec in FIELDS.values())
