"""`gbv-worker` commands beyond Faust's own (`worker`, `send`, ...).

Each command is a thin shell around pure code: detection (`evaluate`, `explain`),
the registry (`check-config`), the broker helpers (`dev-broker`, `create-topics`)
and the traffic tools in worker/traffic/ (`replay`, `capture`, `tail`, `generate`, `diff`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import orjson
from faust.cli import argument, option

from worker.app import app, settings
from worker import broker
from worker.errors import ConfigErrors
from worker.events import SearchEvent
from worker.notices.selection import choose_notice
from worker.runtime import RuntimeConfig, load_runtime_config
from worker.settings import FIELDS


def _config_dir(path: str | None) -> Path:
    return Path(path) if path else settings.config_path


def _load_or_exit(config_dir: Path) -> RuntimeConfig:
    try:
        return load_runtime_config(config_dir)
    except ConfigErrors as exc:
        print(f"Invalid configuration in {config_dir} ({len(exc.errors)} problem(s)):", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        raise SystemExit(2) from None


@app.command(option("--port", type=int, default=9092, show_default=True, help="Port on 127.0.0.1."))
async def dev_broker(self, port: int) -> None:
    """Run the embedded Tansu broker (memory storage) on 127.0.0.1 in the foreground."""
    command = broker.broker_command(port)
    print(f"Tansu broker on 127.0.0.1:{port} (memory only; Ctrl-C stops it)", file=sys.stderr, flush=True)
    process = subprocess.Popen(command)
    try:
        code = await asyncio.get_running_loop().run_in_executor(None, process.wait)
    except (KeyboardInterrupt, asyncio.CancelledError):
        process.terminate()
        code = process.wait()
    raise SystemExit(0 if code in (0, -15) else code)


@app.command(option("--partitions", type=int, default=None, help="Default: GBV_TOPIC_PARTITIONS."))
async def create_topics(self, partitions: int | None) -> None:
    """Create the search, notice and dead-letter topics when they do not exist."""
    names = [settings.search_topic, settings.notice_topic, settings.dlq_topic]
    created = await broker.create_topics(settings.bootstrap_servers, names, partitions or settings.topic_partitions,
                                  settings=settings)
    for name in names:
        print(f"{name}: {'created' if name in created else 'exists'}")



@app.command(option("--config", "config_dir", default=None, help="Default: GBV_CONFIG_DIR."),
             option("--max-age-days", type=int, default=None, help="Default: GBV_FRESHNESS_DAYS."))
async def check_config(self, config_dir: str | None, max_age_days: int | None) -> None:
    """Validate countries, notices, hotlines and lexicons; report stale hotline entries."""
    directory = _config_dir(config_dir)
    config = _load_or_exit(directory)
    max_age = max_age_days if max_age_days is not None else settings.freshness_days
    registry = config.registry
    print(f"OK: {directory}: {len(registry.countries)} countries "
          f"({', '.join(sorted(registry.countries))}), config_version {config.config_version}, "
          f"detector_version {config.detector_version}")
    stale = registry.stale(dt.date.today(), max_age)
    for entry in stale:
        print(f"STALE: {entry.country} {entry.hotline_id}: verified_on {entry.verified_on.isoformat()} "
              f"is {entry.age_days} days old (limit {max_age})")
    if not stale:
        print(f"Every hotline entry was verified within {max_age} days.")


@app.command(argument("file"), option("--json", "as_json", is_flag=True, help="One JSON object on stdout."),
             option("--config", "config_dir", default=None, help="Default: GBV_CONFIG_DIR."))
async def evaluate(self, file: str, as_json: bool, config_dir: str | None) -> None:
    """Precision, recall and F1 of the detector on a labelled JSONL file (no broker)."""
    from worker.detection.evaluate import evaluate_rows, format_report, load_rows

    config = _load_or_exit(_config_dir(config_dir))
    report = evaluate_rows(config.detector, load_rows(Path(file)))
    if as_json:
        sys.stdout.write(json.dumps({k: report[k] for k in ("overall", "per_country", "per_category")},
                                    ensure_ascii=False) + "\n")
    else:
        print(format_report(report))


@app.command(argument("query"), option("--country", required=True, help="ISO 3166-1 alpha-2."),
             option("--locale", default=None, help="BCP 47, e.g. id-ID."),
             option("--at", default=None, help="RFC 3339 time of the search (default: now)."),
             option("--json", "as_json", is_flag=True, help="One JSON object on stdout."),
             option("--config", "config_dir", default=None, help="Default: GBV_CONFIG_DIR."))
async def explain(self, query: str, country: str, locale: str | None, at: str | None, as_json: bool,
                  config_dir: str | None) -> None:
    """Why a search would (not) show a notice: normalised text, rules, decision, and the notice."""
    from worker.detection.explain import format_explanation
    from worker.events import parse_ts

    config = _load_or_exit(_config_dir(config_dir))
    country = country.upper()
    explanation = config.detector.explain(query, country, locale)
    ts_ms = parse_ts(at) if at else int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
    notice = None
    detection = config.detector.detect(query, country, locale)
    if detection.is_gbv:
        event = SearchEvent(event_id="explain", ts_ms=ts_ms, query=query, country=country, locale=locale)
        chosen = choose_notice(config.registry, event, detection.category, config.detector_version,
                               config.config_version)
        notice = chosen.to_dict(ts_ms) if chosen else None
    if as_json:
        explanation = dict(explanation)
        explanation["notice"] = notice
        sys.stdout.write(orjson.dumps(explanation, default=str).decode() + "\n")
        return
    print(format_explanation(explanation))
    if detection.is_gbv and notice is None:
        print(f"\nNo notice: {country} has no configuration and no fallback (counted as unsupported_country).")
    elif notice:
        print(f"\nNotice {notice['notice_id']} in {notice['language']}: {notice['title']}")
        for i, line in enumerate(notice["hotlines"], 1):
            channels = ", ".join(f"{k} {v}" for k, v in line["channels"].items())
            state = {True: "open now", False: "closed now", None: "hours unknown"}[line["open_now"]]
            print(f"  {i}. {line['name']} [{state}; {line['hours']}] {channels}")


@app.command()
async def env(self) -> None:
    """Print every environment variable the worker reads, with its default (Markdown table)."""
    print("| variable | default | meaning |\n|---|---|---|")
    for spec in FIELDS.values():
        print(f"| `{spec.env}` | `{spec.default}` | {spec.doc} |")
