"""Helpers for the fault tests: a broker per test, a TLS/SCRAM front, event mixes and accounting.

Every fault test starts its own Tansu on a free port (FaultBroker), runs real worker
processes against it (worker.testing.WorkerProcess) and then accounts for every event it
produced by reading the output topics and the consumer group's committed offsets:

- processed: the group's committed offsets reach the end of the search topic, and the
  worker commits an offset only after the broker acknowledged every notice and dead
  letter of the events before it (worker/topology.py), so every event was handled;
- every GBV event has a notice with its deterministic id (uuid5 of event id + notice id,
  computed here independently), repeats carry the same id and count as duplicates;
- every invalid event has a dead letter (matched by its original bytes).
"""

from __future__ import annotations


import asyncio
import base64
import collections
import functools
import hashlib
import hmac
import os
import random
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import orjson

from worker.broker import DevBroker
from worker.events import notice_event_id, parse_search_event
from worker.notices.selection import choose_notice
from worker.runtime import load_runtime_config
from worker.settings import Settings
from worker.testing import Record, consume, metric_value

# Queries the shipped configuration detects (checked again at run time against the live config).
GBV_QUERIES = [
    ("kdrt", "ID"), ("#KDRT", "ID"), ("suami saya memukul saya", "ID"),
    ("domestic violence hotline", "SG"), ("domestic abuse shelter", "SG"),
    ("bf hit me again", "PH"), ("남친한테 맞았어요", "KR"), ("rape crisis centre", "MY"),
    ("chồng đánh vợ", "VN"), ("ถูกสามีทำร้าย", "TH"),
]
EVERYDAY_QUERIES = [
    ("weather tomorrow", "SG"), ("nasi goreng recipe", "ID"), ("liga 1 score", "ID"),
    ("cheap flights bali", "SG"), ("pukul 5 sore", "ID"), ("grape juice", "MY"), ("kdrama terbaru", "ID"),
    ("đánh giá điện thoại", "VN"), ("ซ้อมดนตรี", "TH"), ("traffic jam edsa", "PH"),
]


# -- broker -------------------------------------------------------------------------------
class FaultBroker(DevBroker):
    """Tansu on a free port; `advertised_port` lets clients be routed through a proxy or front."""

    def __init__(self, log_path: Path, advertised_port: int | None = None, extra_args: Sequence[str] = ()) -> None:
        super().__init__(log_path=log_path, extra_args=extra_args, advertised_port=advertised_port)


# -- a TLS and SASL/SCRAM-SHA-512 front ------------------------------------------------------
def scram_credentials(password: str, salt: bytes, iterations: int = 4096) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha512").digest()
    server_key = hmac.new(salted, b"Server Key", "sha512").digest()
    return hashlib.sha512(client_key).digest(), server_key


class _Scram:
    """Server side of one SCRAM-SHA-512 exchange (RFC 5802), verifying against stored keys."""

    def __init__(self, users: dict[str, tuple[bytes, int, bytes, bytes]]) -> None:
        self.users = users
        self.step = 0
        self.auth_message = ""
        self.user = None

    def first(self, message: str) -> str:
        if not message.startswith("n,,"):
            raise ValueError("channel binding is not supported")
        bare = message[3:]
        attrs = dict(part.split("=", 1) for part in bare.split(","))
        self.user = attrs["n"].replace("=2C", ",").replace("=3D", "=")
        nonce = attrs["r"] + base64.b64encode(os.urandom(18)).decode()
        salt, iterations, _, _ = self.users.get(self.user, (os.urandom(16), 4096, b"", b""))
        server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={iterations}"
        self.nonce = nonce
        self.auth_message = f"{bare},{server_first}"
        return server_first

    def final(self, message: str) -> str | None:
        """The server-final message, or None when the proof does not verify."""
        without_proof, _, proof = message.rpartition(",p=")
        attrs = dict(part.split("=", 1) for part in without_proof.split(","))
        if attrs.get("r") != self.nonce or self.user not in self.users:
            return None
        _, _, stored_key, server_key = self.users[self.user]
        auth_message = f"{self.auth_message},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, "sha512").digest()
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        if not hmac.compare_digest(hashlib.sha512(client_key).digest(), stored_key):
            return None
        return "v=" + base64.b64encode(hmac.new(server_key, auth_message, "sha512").digest()).decode()


def _kafka_string(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    data = value.encode()
    return struct.pack(">h", len(data)) + data


class SecureFront:
    """Listens on 127.0.0.1:listen_port with TLS (ssl_context) and/or SASL/SCRAM-SHA-512 (users),
    and forwards authenticated connections in plain TCP to the broker on upstream_port.

    Tansu 0.6.0 cannot serve these itself here: its `--cert` and `--key` options are
    mutually exclusive on the command line (so TLS cannot be configured), and with
    `--authentication` on memory storage no SCRAM user can be created (`tansu user create`
    is itself refused as unauthenticated). Wrong credentials are also tested against a real
    `--authentication` Tansu. Before authentication only ApiVersions (passed to the broker),
    SaslHandshake and SaslAuthenticate are answered; anything else closes the connection,
    as a Kafka broker does."""

    SASL_HANDSHAKE, SASL_AUTHENTICATE, API_VERSIONS = 17, 36, 18

    def __init__(self, listen_port: int, upstream_port: int, *, ssl_context: ssl.SSLContext | None = None,
                 users: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.host, self.listen_port, self.upstream_port = host, listen_port, upstream_port
        self.ssl_context = ssl_context
        self.users = None
        if users is not None:
            self.users = {}
            for name, password in users.items():
                salt = os.urandom(16)
                stored, server = scram_credentials(password, salt)
                self.users[name] = (salt, 4096, stored, server)
        self.authentications = collections.Counter()       # "ok" / "failed"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="secure-front", daemon=True)
        self._server = None
        self._writers: set = set()

    def start(self) -> "SecureFront":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port, ssl=self.ssl_context)

    async def _close(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server:
            self._server.close()

    async def _accept(self, reader, writer) -> None:
        self._writers.add(writer)
        upstream = None
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
            upstream = up_writer
            self._writers.add(up_writer)
            if self.users is not None and not await self._authenticate(reader, writer, up_reader, up_writer):
                return
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError, KeyError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    w.transport.abort()
                    self._writers.discard(w)

    @staticmethod
    async def _frame(reader) -> bytes:
        size = struct.unpack(">i", await reader.readexactly(4))[0]
        return await reader.readexactly(size)

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()

    async def _authenticate(self, reader, writer, up_reader, up_writer) -> bool:
        scram = None
        while True:
            frame = await self._frame(reader)
            api_key, version, correlation = struct.unpack(">hhi", frame[:8])
            client_id_len = struct.unpack(">h", frame[8:10])[0]
            body = frame[10 + max(0, client_id_len):]
            if api_key == self.API_VERSIONS:
                up_writer.write(struct.pack(">i", len(frame)) + frame)
                await up_writer.drain()
                response = await self._frame(up_reader)
                writer.write(struct.pack(">i", len(response)) + response)
                await writer.drain()
            elif api_key == self.SASL_HANDSHAKE and version == 1:
                length = struct.unpack(">h", body[:2])[0]
                mechanism = body[2:2 + length].decode()
                ok = mechanism == "SCRAM-SHA-512"
                scram = _Scram(self.users) if ok else None
                payload = struct.pack(">hi", 0 if ok else 33, 1) + _kafka_string("SCRAM-SHA-512")
                self._reply(writer, correlation, payload)
                if not ok:
                    return False
            elif api_key == self.SASL_AUTHENTICATE and version in (0, 1) and scram is not None:
                length = struct.unpack(">i", body[:4])[0]
                message = body[4:4 + length].decode()
                if scram.step == 0:
                    scram.step = 1
                    reply, error = scram.first(message), None
                else:
                    reply = scram.final(message)
                    error = None if reply is not None else (
                        "Authentication failed during authentication due to invalid credentials "
                        "with SASL mechanism SCRAM-SHA-512")
                out = reply.encode() if reply else b""
                payload = struct.pack(">h", 58 if error else 0) + _kafka_string(error) + \
                    struct.pack(">i", len(out)) + out
                if version == 1:
                    payload += struct.pack(">q", 0)
                self._reply(writer, correlation, payload)
                await writer.drain()
                if error:
                    self.authentications["failed"] += 1
                    return False
                if scram.step == 1 and reply.startswith("v="):
                    self.authentications["ok"] += 1
                    return True
            else:
                return False                      # unauthenticated request: drop the connection

    @staticmethod
    def _reply(writer, correlation: int, payload: bytes) -> None:
        message = struct.pack(">i", correlation) + payload
        writer.write(struct.pack(">i", len(message)) + message)

    def __enter__(self) -> "SecureFront":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def make_certificates(directory: Path) -> dict[str, Path]:
    """A CA, a broker certificate for 127.0.0.1 signed by it, and an unrelated CA (openssl)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / name for name in ("ca.crt", "ca.key", "broker.crt", "broker.key", "broker.csr",
                                                   "other-ca.crt", "other-ca.key", "san.cnf")}
    files["san.cnf"].write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=gbv-test-{ca}",
            "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "broker.key",
        "-out", "broker.csr")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-out", "broker.crt", "-extfile", "san.cnf")
    return files


def server_context(files: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files["broker.crt"], files["broker.key"])
    return context


# -- events ----------------------------------------------------------------------------------
@dataclass
class EventMix:
    """Produced events and what each must become."""

    records: list[tuple[bytes, bytes]] = field(default_factory=list)   # (key, value)
    gbv: dict[str, str] = field(default_factory=dict)                  # event id -> notice_event_id
    valid_ids: set[str] = field(default_factory=set)
    invalid: set[bytes] = field(default_factory=set)                   # original bytes of invalid events

    @property
    def sent(self) -> int:
        return len(self.records)


_CONFIG = None


def live_config():
    """The shipped configuration, loaded in the test process (same files as the workers)."""
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = load_runtime_config(Settings.from_env({}).config_path)
    return _CONFIG


def expected_notice(value: bytes) -> str | None:
    """The notice_event_id the worker must emit for this search event, or None."""
    config = live_config()
    search = parse_search_event(value)
    detection = config.detector.detect(search.query, search.country, search.locale)
    if not detection.is_gbv:
        return None
    notice = choose_notice(config.registry, search, detection.category, config.detector_version,
                           config.config_version)
    return None if notice is None else notice_event_id(search.event_id, notice.notice_id)


def invalid_event(i: int, rng: random.Random) -> bytes:
    """A unique bad event (its index is in it, so dead letters can be matched to it)."""
    now = int(time.time() * 1000)
    kinds = [
        lambda: b"{not json %d" % i,
        lambda: b"\xff\xfe bad utf8 %d" % i,
        lambda: orjson.dumps({"event_id": f"bad-{i}", "ts": -5, "query": "kdrt", "country": "ID"}),
        lambda: orjson.dumps({"event_id": f"bad-{i}", "ts": now, "query": 42, "country": "ID"}),
        lambda: orjson.dumps({"event_id": f"bad-{i}", "ts": now, "query": "kdrt", "country": "IDN"}),
        lambda: orjson.dumps([i, "kdrt"]),
        lambda: orjson.dumps({"event_id": f"bad-{i}", "query": "kdrt", "country": "ID"}),
    ]
    return rng.choice(kinds)()


def make_events(n: int, *, seed: int, prefix: str, gbv_share: float = 0.3, invalid_share: float = 0.05,
                extra: dict | None = None) -> EventMix:
    rng = random.Random(seed)
    mix = EventMix()
    now = int(time.time() * 1000)
    for i in range(n):
        roll = rng.random()
        key = f"k{rng.randrange(997)}".encode()
        if roll < invalid_share:
            value = invalid_event(i, rng)
            mix.invalid.add(value)
        else:
            query, country = rng.choice(GBV_QUERIES if roll < invalid_share + gbv_share else EVERYDAY_QUERIES)
            event_id = f"{prefix}-{i}"
            value = orjson.dumps({"event_id": event_id, "ts": now - rng.randrange(60_000), "query": query,
                                  "country": country, **(extra or {})})
            mix.valid_ids.add(event_id)
            expected = expected_notice(value)
            if expected:
                mix.gbv[event_id] = expected
        mix.records.append((key, value))
    return mix


# -- accounting ------------------------------------------------------------------------------
async def _committed(bootstrap: str, group: str, topic: str, options: dict) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    # A consumer of the group that never subscribes: it only reads the committed offsets.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                request_timeout_ms=10000, **options)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()           # noqa: SLF001
            partitions = consumer.partitions_for_topic(topic) or set()
        return {p: max(0, await consumer.committed(TopicPartition(topic, p)) or 0) for p in sorted(partitions)}
    finally:
        await consumer.stop()


def committed(bootstrap: str, group: str, topic: str, options: dict | None = None) -> int:
    """Sum of the group's committed offsets over the topic's partitions: the number of events
    the group has finished with, since offsets start at 0 and are contiguous here.

    (Not compared with ListOffsets: Tansu 0.6.0 answers "latest" with the base offset of the
    last batch instead of the offset after the last record, so log-end offsets read low.)"""
    return sum(committed_by_partition(bootstrap, group, topic, options).values())


def committed_by_partition(bootstrap: str, group: str, topic: str, options: dict | None = None) -> dict[int, int]:
    """partition -> the group's committed offset (the next offset it would read)."""
    return asyncio.run(_committed(bootstrap, group, topic, options or {}))


def wait_group_done(bootstrap: str, group: str, topic: str, expected: int, timeout: float,
                    options: dict | None = None, alive=None) -> float:
    """Until the group has committed `expected` events (all that were produced); returns the seconds it took."""
    started = time.monotonic()
    last = 0
    while time.monotonic() - started < timeout:
        try:
            last = committed(bootstrap, group, topic, options)
        except Exception:             # noqa: BLE001 - the broker may be briefly unavailable
            pass
        if last >= expected:
            return time.monotonic() - started
        if alive is not None:
            alive()
        time.sleep(0.5)
    raise TimeoutError(f"group {group} committed {last} of {expected} events after {timeout}s")


@dataclass
class Account:
    sent: int
    valid: int
    gbv_expected: int
    notices: int
    notice_events: int
    duplicates: int
    dead_letters: int
    dead_letter_events: int
    dead_letter_duplicates: int
    missing: list[str]
    unexpected: list[str]
    wrong_ids: list[str]
    missing_dead_letters: int
    reasons: collections.Counter

    def check(self) -> None:
        assert not self.missing, f"{len(self.missing)} GBV events without a notice, e.g. {self.missing[:5]}"
        assert not self.unexpected, f"notices for events that are not GBV: {self.unexpected[:5]}"
        assert not self.wrong_ids, f"notices whose id is not the deterministic one: {self.wrong_ids[:5]}"
        assert self.missing_dead_letters == 0, f"{self.missing_dead_letters} invalid events without a dead letter"


def account(bootstrap: str, topics, mix: EventMix, *, timeout: float = 120.0,
            read=consume) -> tuple[Account, list[Record], list[Record]]:
    notices = read(bootstrap, topics.notices, expect=len(mix.gbv), timeout=timeout) if mix.gbv else \
        read(bootstrap, topics.notices, idle=2, timeout=10)
    dead = read(bootstrap, topics.dead_letters, expect=len(mix.invalid), timeout=timeout) if mix.invalid else \
        read(bootstrap, topics.dead_letters, idle=2, timeout=10)
    per_event: dict[str, set[str]] = collections.defaultdict(set)
    counts = collections.Counter()
    for record in notices:
        body = record.json()
        per_event[body["search_event_id"]].add(body["notice_event_id"])
        counts[body["search_event_id"]] += 1
    wrong = [e for e, ids in per_event.items() if e in mix.gbv and ids != {mix.gbv[e]}]
    originals = collections.Counter()
    reasons = collections.Counter()
    for record in dead:
        body = record.json()
        originals[base64.b64decode(body["original"])] += 1
        reasons[body["reason"]] += 1
    acc = Account(
        sent=mix.sent, valid=len(mix.valid_ids), gbv_expected=len(mix.gbv), notices=len(notices),
        notice_events=len(counts), duplicates=sum(c - 1 for c in counts.values()),
        dead_letters=len(dead), dead_letter_events=len(originals),
        dead_letter_duplicates=sum(c - 1 for c in originals.values()),
        missing=sorted(set(mix.gbv) - set(counts)), unexpected=sorted(set(counts) - set(mix.gbv)),
        wrong_ids=wrong, missing_dead_letters=len(mix.invalid - set(originals)), reasons=reasons)
    return acc, notices, dead


def metrics_totals(exposition: str) -> dict[str, float]:
    return {
        "processed": metric_value(exposition, "gbv_search_events_total"),
        "dead_lettered": metric_value(exposition, "gbv_dead_letters_total"),
        "notices": metric_value(exposition, "gbv_notice_impressions_total"),
        "broker_errors": metric_value(exposition, "gbv_broker_errors_total"),
    }


def figures(test: str, **values) -> None:
    """One greppable line per test: FIGURES test=... sent=... processed=... dead_lettered=... duplicates=..."""
    shown = " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
    print(f"\nFIGURES test={test} {shown}", flush=True)


def produce_in_background(bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]], *,
                          chunk: int, pause: float, options: dict | None = None) -> threading.Thread:
    """Produce `records` in chunks with pauses between them, from a thread (a live stream)."""
    from worker.testing import produce_async

    items = list(records)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for start in range(0, len(items), chunk):
                if options:
                    asyncio.run(produce_secure(bootstrap, topic, items[start:start + chunk], options))
                else:
                    asyncio.run(produce_async(bootstrap, topic, items[start:start + chunk]))
                time.sleep(pause)
        except BaseException as exc:      # noqa: BLE001 - surfaced by join_producer
            errors.append(exc)

    thread = threading.Thread(target=run, name="producer", daemon=True)
    thread.errors = errors             # type: ignore[attr-defined]
    thread.start()
    return thread


def join_producer(thread: threading.Thread, timeout: float = 120.0) -> None:
    thread.join(timeout)
    assert not thread.is_alive(), "producer did not finish"
    if thread.errors:                  # type: ignore[attr-defined]
        raise thread.errors[0]         # type: ignore[attr-defined]


async def produce_secure(bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes]], options: dict) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False,
                                linger_ms=5, max_request_size=4 * 1024 * 1024, **options)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def consume_secure(options: dict):
    """A `consume` with security options, for `account(read=...)`."""
    return functools.partial(consume, **options)
