"""Builds the Faust app from the settings. Thin on purpose: the stream is in topology.py,
the commands are in cli/, the metrics in metrics.py.

`gbv-worker` is this app's command line (faust -A worker.app conventions):
`gbv-worker worker -l info`, `gbv-worker dev-broker`, `gbv-worker evaluate ...`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import faust

from worker import transport
from worker.security import broker_credentials
from worker.metrics import Metrics
from worker.runtime import ConfigHolder, RuntimeConfig
from worker.settings import Settings

settings = Settings.from_env()
metrics = Metrics()


def _on_config(config: RuntimeConfig) -> None:
    metrics.set_config(config.registry, config.detector_version, config.config_version, settings.freshness_days)


def _on_rejected(_errors: Exception) -> None:
    metrics.config_reloads.labels("rejected").inc()


# No tables, so no local state worth keeping; Faust still wants a data dir: keep it out of the work tree.
DATADIR = Path(tempfile.gettempdir()) / "gbv-worker" / settings.group_id
DATADIR.mkdir(parents=True, exist_ok=True)

config = ConfigHolder(settings.config_path, on_change=_on_config, on_rejected=_on_rejected)

app = faust.App(
    settings.group_id,
    broker=settings.broker_url,
    # Consumer: Faust's aiokafka driver, handing the agent one event per fetched chunk.
    broker_consumer=settings.broker_url.replace("kafka://", f"{transport.SCHEME}://"),
    broker_credentials=broker_credentials(settings),
    key_serializer="raw",
    value_serializer="raw",
    # A Faust group join on default timeouts takes ~30 s; these keep rebalances to seconds.
    broker_session_timeout=settings.session_timeout_s,
    broker_rebalance_timeout=settings.session_timeout_s,
    broker_heartbeat_interval=max(0.5, min(3.0, settings.session_timeout_s / 4)),
    consumer_auto_offset_reset="earliest",
    broker_max_poll_records=settings.max_poll_records,
    broker_commit_interval=1.0,          # bounds the replay after a crash to about a second
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=1,
    # Faust's web server serves /metrics (and Faust's own pages) on GBV_METRICS_PORT.
    web_enabled=True,
    web_port=settings.metrics_port,
    web_bind=settings.metrics_host,
    web_in_thread=False,
    # Tansu's in-memory storage rejects idempotent and transactional producers:
    # the contract is at-least-once with deterministic notice ids.
    processing_guarantee="at_least_once",
    datadir=str(DATADIR),
)

search_topic = app.topic(settings.search_topic, partitions=settings.topic_partitions)
notice_topic = app.topic(settings.notice_topic, partitions=settings.topic_partitions)
dead_letter_topic = app.topic(settings.dlq_topic, partitions=settings.topic_partitions)

# Registered on import: the agent and timers, the web page, the commands.
from worker import topology  # noqa: E402,F401
from worker.cli import commands  # noqa: E402,F401
from worker.cli import traffic  # noqa: E402,F401
