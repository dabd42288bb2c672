"""Fault tests: each starts its own Tansu on a free port (the `broker` fixture is per test here),
so a killed, cut or rebalanced broker session never leaks into another test."""

from __future__ import annotations

import pytest

from faultkit import FaultBroker


@pytest.fixture
def broker(tmp_path):
    with FaultBroker(tmp_path / "tansu.log") as running:
        yield running
