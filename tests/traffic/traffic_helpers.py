"""Helpers for the traffic-tool tests (imported as `traffic_helpers`): run `gbv-worker <command>` as a
real process, with the settings of a test's broker and topics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from worker.testing import ROOT, TopicSet


def cli_env(bootstrap: str | None = None, topics: TopicSet | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GBV_", "KAFKA_")) or k == "GBV_CONFIG_DIR"}
    env["PYTHONUNBUFFERED"] = "1"
    if bootstrap:
        env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    if topics:
        env.update({"GBV_SEARCH_TOPIC": topics.search, "GBV_NOTICE_TOPIC": topics.notices,
                    "GBV_DLQ_TOPIC": topics.dead_letters, "GBV_GROUP_ID": topics.group})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(*args: str, bootstrap: str | None = None, topics: TopicSet | None = None, input: bytes | None = None,
            timeout: float = 120, **env) -> subprocess.CompletedProcess:
    """`python -m worker ARGS...` -> CompletedProcess with text stdout/stderr."""
    result = subprocess.run([sys.executable, "-m", "worker", *args], input=input, capture_output=True,
                            timeout=timeout, cwd=str(ROOT), env=cli_env(bootstrap, topics, **env))
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8", "replace"),
                                       result.stderr.decode("utf-8", "replace"))


def popen_cli(*args: str, bootstrap: str | None = None, topics: TopicSet | None = None, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "worker", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=str(ROOT), env=cli_env(bootstrap, topics, **env), start_new_session=True)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path
