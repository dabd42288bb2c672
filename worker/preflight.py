"""Startup check of the broker connection, before Faust starts.

Faust (through aiokafka) retries a failing connection forever and logs it at most as a
warning, so a worker with a wrong password or an untrusted broker certificate would sit
there "starting" indefinitely. `check_broker` connects once with a plain aiokafka
connection using exactly the worker's security settings (worker.security) and asks for
cluster metadata (a request the broker answers only to an authenticated client):

- authentication refused, SASL mechanism not offered, TLS handshake or certificate
  failure: raise `BrokerCheckFailed` at once (retrying cannot fix configuration);
- broker unreachable (refused, timed out, connection dropped): retry with backoff for
  up to `timeout` seconds (GBV_BROKER_WAIT_S), so a worker that starts a little before
  its broker still comes up; then raise `BrokerCheckFailed`.

Messages name the broker address, the protocol, the mechanism and the user, never the
password: any text that comes from outside (an exception, the broker) is scrubbed of it.
`gbv-worker worker` prints the message and exits with code 3 (see worker/cli).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import sys
import time
from typing import Callable

from worker.settings import Settings

EXIT_CODE = 3
ATTEMPT_TIMEOUT_S = 10.0
BACKOFF_S = (0.25, 0.5, 1.0, 2.0)
REPORT_EVERY_S = 10.0
REFUSED_LIMIT = 3          # connected, then dropped on the first request this many times in a row


class BrokerCheckFailed(Exception):
    """The worker cannot use the broker. `kind` is auth, tls or unreachable; str() is safe to print."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class _Refused(Exception):
    """Connected (and authenticated, if configured), but the broker dropped the metadata request."""


class _Fatal(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(detail)


def bootstrap_hosts(settings: Settings) -> list[tuple[str, int]]:
    hosts = []
    for item in settings.bootstrap_servers.split(","):
        item = item.strip()
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host:                        # "hostname" alone: Kafka's default port
            host, port = item, "9092"
        if not port.isdigit():
            raise BrokerCheckFailed("unreachable", f"KAFKA_BOOTSTRAP_SERVERS: {item!r} is not host:port")
        hosts.append((host.strip("[]"), int(port)))
    return hosts


def describe_security(settings: Settings) -> str:
    """'SASL_SSL, SCRAM-SHA-512, user 'x'' style summary: everything except the password."""
    protocol = settings.security_protocol.upper()
    if protocol.startswith("SASL"):
        return f"{protocol}, SASL {settings.sasl_mechanism.upper()}, user '{settings.sasl_username}'"
    return protocol


def _scrub(text: str, settings: Settings) -> str:
    if settings.sasl_password:
        text = text.replace(settings.sasl_password, "***")
    return " ".join(text.split())[:300]


def _classify(exc: BaseException, settings: Settings) -> _Fatal | str:
    """A fatal configuration problem, or (a string) a reason to retry."""
    from aiokafka import errors

    protocol = settings.security_protocol.upper()
    mechanism = settings.sasl_mechanism.upper()
    name = type(exc).__name__
    if isinstance(exc, (errors.SaslAuthenticationFailed, errors.AuthenticationFailedError)):
        return _Fatal("auth", f"the broker refused the credentials ({_scrub(str(exc) or name, settings)})")
    if isinstance(exc, errors.UnsupportedSaslMechanismError):
        return _Fatal("auth", f"the broker does not offer SASL mechanism {mechanism}")
    if isinstance(exc, errors.IllegalSaslStateError):
        return _Fatal("auth", "the broker ended the SASL exchange (IllegalSaslState)")
    # TLS first: ssl.SSLCertVerificationError is also a ValueError.
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = _scrub(getattr(exc, "verify_message", None) or str(exc) or name, settings)
        return _Fatal("tls", f"the broker's certificate is not trusted ({detail}); "
                             "check KAFKA_SSL_CAFILE")
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)):
        return "the connection closed during the TLS handshake"      # may be a restarting broker: retry
    if isinstance(exc, ssl.SSLError):
        detail = _scrub(getattr(exc, "reason", None) or str(exc) or name, settings)
        return _Fatal("tls", f"the TLS handshake with the broker failed ({detail})")
    if protocol.startswith("SASL") and isinstance(exc, (KeyError, ValueError, AssertionError)):
        # aiokafka's SCRAM client fails this way when the broker answers with an error
        # ("e=...") instead of its signature, or with a signature that does not verify.
        return _Fatal("auth", "the broker rejected the SCRAM exchange (wrong user name or password)")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return _scrub(exc.strerror, settings) if exc.strerror else name
    if isinstance(exc, _Refused):
        return "the broker accepted the connection but closed it on the first request"
    if isinstance(exc, errors.KafkaError):
        text = str(exc)
        return _scrub(text if text.startswith(name) else f"{name}: {text}", settings)
    return name


async def _probe(host: str, port: int, settings: Settings, attempt_timeout: float) -> None:
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    from worker.security import aiokafka_options

    options = aiokafka_options(settings)
    conn = await asyncio.wait_for(
        create_conn(host, port, client_id="gbv-worker-preflight", request_timeout_ms=int(attempt_timeout * 1000),
                    **options), attempt_timeout)
    try:
        await asyncio.wait_for(conn.send(MetadataRequest([])), attempt_timeout)
    except Exception as exc:  # noqa: BLE001
        from aiokafka.errors import KafkaConnectionError

        if isinstance(exc, KafkaConnectionError):
            raise _Refused() from exc
        raise
    finally:
        conn.close()


async def check_broker_async(settings: Settings, timeout: float,
                             report: Callable[[str], None] | None = None) -> None:
    hosts = bootstrap_hosts(settings)
    if not hosts:
        raise BrokerCheckFailed("unreachable", "no broker address: KAFKA_BOOTSTRAP_SERVERS is empty")
    where = ", ".join(f"{h}:{p}" for h, p in hosts)
    security = describe_security(settings)
    deadline = time.monotonic() + max(0.0, timeout)
    attempt = 0
    refused = 0
    last_report = time.monotonic()
    reasons: list[str] = []
    while True:
        reasons = []
        for host, port in hosts:
            remaining = max(0.5, deadline - time.monotonic())
            try:
                await _probe(host, port, settings, min(ATTEMPT_TIMEOUT_S, remaining))
                return
            except Exception as exc:  # noqa: BLE001 - classified below
                verdict = _classify(exc, settings)
                refused = refused + 1 if isinstance(exc, _Refused) else 0
                if refused >= REFUSED_LIMIT:
                    verdict = _Fatal("auth", "the broker accepted the connection but closed it on every request: "
                                             "it probably requires authentication or TLS "
                                             "(check KAFKA_SECURITY_PROTOCOL)")
            if isinstance(verdict, _Fatal):
                what = "authentication to" if verdict.kind == "auth" else "a TLS connection to"
                raise BrokerCheckFailed(verdict.kind, f"{what} the broker at {host}:{port} failed "
                                                      f"({security}): {verdict.detail}")
            reasons.append(f"{host}:{port}: {verdict}")
        now = time.monotonic()
        if now >= deadline:
            raise BrokerCheckFailed("unreachable", f"the broker at {where} could not be reached within "
                                                   f"{timeout:g}s ({security}; {'; '.join(reasons)}); "
                                                   "set GBV_BROKER_WAIT_S to wait longer")
        if report and (attempt == 0 or now - last_report >= REPORT_EVERY_S):
            report(f"broker not reachable yet ({'; '.join(reasons)}); retrying for up to "
                   f"{deadline - now:.0f}s more")
            last_report = now
        await asyncio.sleep(min(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)], max(0.0, deadline - now)))
        attempt += 1


def check_broker(settings: Settings, timeout: float | None = None,
                 report: Callable[[str], None] | None = None) -> None:
    """Raise BrokerCheckFailed unless the broker accepts the worker's connection.

    Runs on its own event loop in a helper thread, so the caller's event-loop state (which
    Faust sets up afterwards) is left untouched."""
    wait = settings.broker_wait_s if timeout is None else timeout
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gbv-preflight") as pool:
        pool.submit(asyncio.run, check_broker_async(settings, wait, report)).result()


def stderr_report(message: str) -> None:
    print(f"gbv-worker: {message}", file=sys.stderr, flush=True)
