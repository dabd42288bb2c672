"""A small Kafka-aware TCP proxy for tests: cut the network on demand, and let old librdkafka talk to Tansu.

Two uses:
- Fault tests put it between the worker and the broker and `cut()` it: open connections
  are closed and new ones refused until `restore()`.
- kcat in Debian 12 (librdkafka 2.0.2) cannot parse the top-level tagged fields
  (SupportedFeatures, FinalizedFeatures, ...) that Tansu puts in its ApiVersions v3
  response ("Read underflow"). With `fix_api_versions` the proxy drops those optional
  tagged fields from ApiVersions responses; every other byte passes through unchanged.

Clients must connect through the proxy for every request, so the broker behind it is
started with its advertised listener set to the proxy's address.
"""

from __future__ import annotations

import asyncio
import struct
import threading

API_VERSIONS = 18


def strip_api_versions_tags(frame: bytes, version: int) -> bytes:
    """ApiVersions response (v3+) without its top-level tagged fields; other versions unchanged."""
    if version < 3:
        return frame
    # frame: correlation_id(4) error_code(2) api_keys(compact array) throttle_time_ms(4) tagged_fields
    pos = 6
    count, pos = _uvarint(frame, pos)
    for _ in range(max(0, count - 1)):
        pos += 6                                   # api_key, min_version, max_version
        tags, pos = _uvarint(frame, pos)
        for _ in range(tags):
            _, pos = _uvarint(frame, pos)
            size, pos = _uvarint(frame, pos)
            pos += size
    pos += 4                                       # throttle_time_ms
    if pos > len(frame):
        return frame
    return frame[:pos] + b"\x00"


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


class KafkaProxy:
    """Listens on 127.0.0.1:listen_port and forwards to 127.0.0.1:upstream_port, in its own thread."""

    def __init__(self, listen_port: int, upstream_port: int, *, fix_api_versions: bool = True,
                 host: str = "127.0.0.1") -> None:
        self.host = host
        self.listen_port = listen_port
        self.upstream_port = upstream_port
        self.fix_api_versions = fix_api_versions
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kafka-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._cut = False
        self.connections = 0

    # -- control from the test thread ----------------------------------------------------
    def start(self) -> "KafkaProxy":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close_all(stop_server=True), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut(self) -> None:
        """Close every open connection and refuse new ones (a network outage)."""
        self._cut = True
        asyncio.run_coroutine_threadsafe(self._close_all(stop_server=False), self._loop).result(10)

    def restore(self) -> None:
        self._cut = False

    def __enter__(self) -> "KafkaProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- inside the proxy's loop -----------------------------------------------------------
    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)

    async def _close_all(self, stop_server: bool) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if stop_server and self._server:
            self._server.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._cut:
            client_writer.transport.abort()
            return
        try:
            broker_reader, broker_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((client_writer, broker_writer))
        pending: dict[int, int] = {}       # correlation id -> ApiVersions request version
        tasks = [asyncio.ensure_future(self._requests(client_reader, broker_writer, pending)),
                 asyncio.ensure_future(self._responses(broker_reader, client_writer, pending))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for writer in (client_writer, broker_writer):
            writer.transport.abort()
            self._writers.discard(writer)

    async def _requests(self, reader, writer, pending: dict[int, int]) -> None:
        while True:
            size_bytes = await reader.readexactly(4)
            frame = await reader.readexactly(struct.unpack(">i", size_bytes)[0])
            api_key, version, correlation = struct.unpack(">hhi", frame[:8])
            if api_key == API_VERSIONS and self.fix_api_versions:
                pending[correlation] = version
            writer.write(size_bytes + frame)
            await writer.drain()

    async def _responses(self, reader, writer, pending: dict[int, int]) -> None:
        while True:
            size_bytes = await reader.readexactly(4)
            frame = await reader.readexactly(struct.unpack(">i", size_bytes)[0])
            if pending:
                correlation = struct.unpack(">i", frame[:4])[0]
                version = pending.pop(correlation, None)
                if version is not None:
                    frame = strip_api_versions_tags(frame, version)
                    size_bytes = struct.pack(">i", len(frame))
            writer.write(size_bytes + frame)
            await writer.drain()
