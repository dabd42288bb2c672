"""Shared fixtures: a real Tansu broker per session, unique topics per test, real workers.

Tests that use `broker` are marked `broker` automatically (`make test-fast` skips them).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from worker.broker import DevBroker, create_topics
from worker.testing import TopicSet, WorkerProcess

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.broker)


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with DevBroker(log_path=log) as running:
        yield running


@pytest.fixture
def topics(broker, request) -> TopicSet:
    names = TopicSet.unique(request.node.name[:24].replace("[", "-").replace("]", ""))
    asyncio.run(create_topics(broker.bootstrap, [names.search, names.notices, names.dead_letters], 4))
    return names


@pytest.fixture
def start_worker(broker, topics, tmp_path):
    """start_worker(**env) -> a started WorkerProcess on this test's topics; all stopped at teardown."""
    started: list[WorkerProcess] = []

    def start(wait: bool = True, log_level: str = "info", topic_set: TopicSet | None = None, **env) -> WorkerProcess:
        worker = WorkerProcess(broker.bootstrap, topic_set or topics, tmp_path / f"worker-{len(started)}.log",
                               extra_env={k: str(v) for k, v in env.items()}, log_level=log_level)
        started.append(worker)
        return worker.start(wait=wait)

    yield start
    for worker in started:
        worker.kill()
