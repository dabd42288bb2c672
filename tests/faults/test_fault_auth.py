"""Authentication and encryption to the broker, configured by environment variables
(KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD,
KAFKA_SSL_CAFILE; see docs/operations.md).

- The right credentials over SASL_SSL (SCRAM-SHA-512 inside TLS) work end to end.
- Wrong credentials, an untrusted broker certificate or a SASL mechanism the broker does not
  offer make `gbv-worker worker` exit with code 3 at once, with a clear message that never
  contains the password; an unreachable broker is waited for GBV_BROKER_WAIT_S, then the
  same exit; a broker that comes up within that time is used.

Tansu 0.6.0 rejects wrong SCRAM credentials itself (`--authentication`), but cannot serve TLS
(its --cert and --key options exclude each other) nor accept any SCRAM user on memory
storage; so the secured broker here is Tansu behind faultkit.SecureFront, a TLS and
SCRAM-SHA-512 terminator (RFC 5802 server side) in the test process.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time

import pytest

from faultkit import (FaultBroker, SecureFront, account, consume_secure, figures, make_certificates, make_events,
                      produce_secure, server_context, wait_group_done)
from worker.broker import create_topics, free_port
from worker.security import aiokafka_options
from worker.settings import Settings
from worker.testing import TopicSet, WorkerProcess, produce

pytestmark = pytest.mark.broker          # starts its own brokers (skipped by `make test-fast`)
USER = "gbv-worker"
EXIT_BOUND_S = 20.0
SEED = int(os.environ.get("GBV_FAULT_SEED") or time.time_ns() % 1_000_000)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def password() -> str:
    return "S3cret-" + secrets.token_hex(8)


@pytest.fixture
def secured(tmp_path, certs, password):
    """Tansu behind a TLS + SCRAM-SHA-512 front: (bootstrap address, front)."""
    front_port = free_port()
    with FaultBroker(tmp_path / "tansu.log", advertised_port=front_port) as broker, \
            SecureFront(front_port, broker.port, ssl_context=server_context(certs), users={USER: password}) as front:
        yield f"127.0.0.1:{front_port}", front


def security_env(protocol: str, cafile, user: str = USER, password: str = "", mechanism: str = "SCRAM-SHA-512"):
    return {"KAFKA_SECURITY_PROTOCOL": protocol, "KAFKA_SASL_MECHANISM": mechanism, "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": password, "KAFKA_SSL_CAFILE": str(cafile) if cafile else ""}


def run_until_exit(bootstrap: str, topics: TopicSet, log_path, env: dict, bound: float = EXIT_BOUND_S):
    worker = WorkerProcess(bootstrap, topics, log_path, extra_env=env).start(wait=False)
    started = time.monotonic()
    try:
        code = worker.process.wait(bound + 30)
    finally:
        worker.kill()
    return code, time.monotonic() - started, worker.log_text()


def assert_refused(code: int, elapsed: float, log: str, password: str, *expected: str, bound: float = EXIT_BOUND_S):
    message = next((line for line in log.splitlines() if "cannot start" in line), "")
    print(f"\nworker said: {message}")
    assert code == 3, f"exit code {code}; log:\n{log[-3000:]}"
    assert elapsed <= bound, f"took {elapsed:.1f}s"
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert password not in log, "the password appears in the worker's output"
    assert "Traceback" not in log


@pytest.mark.timeout(120)
def test_right_credentials_over_sasl_ssl_work(secured, certs, password, tmp_path):
    bootstrap, front = secured
    env = security_env("SASL_SSL", certs["ca.crt"], password=password)
    settings = Settings.from_env({**env, "KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    options = aiokafka_options(settings)
    topics = TopicSet.unique("sasl-ssl")
    asyncio.run(create_topics(bootstrap, [topics.search, topics.notices, topics.dead_letters], 4, settings=settings))
    mix = make_events(2000, seed=SEED, prefix="tls")
    asyncio.run(produce_secure(bootstrap, topics.search, mix.records, options))

    worker = WorkerProcess(bootstrap, topics, tmp_path / "worker.log", extra_env=env).start(timeout=90)
    drain_s = wait_group_done(bootstrap, topics.group, topics.search, mix.sent, timeout=90, options=options)
    assert worker.stop() == 0
    acc, _, _ = account(bootstrap, topics, mix, read=consume_secure(options))
    figures("auth-sasl-ssl", sent=acc.sent, processed=acc.valid, dead_lettered=acc.dead_letter_events,
            duplicates=acc.duplicates, notices=acc.notices, authentications_ok=front.authentications["ok"],
            authentications_failed=front.authentications["failed"], drain_s=drain_s)
    acc.check()
    assert front.authentications["ok"] >= 1 and front.authentications["failed"] == 0
    assert password not in worker.log_text()


@pytest.mark.timeout(90)
def test_wrong_password_on_a_tansu_with_authentication(tmp_path, password):
    """Tansu's own SCRAM check (--authentication): there is no such user/password."""
    with FaultBroker(tmp_path / "tansu.log", extra_args=["--authentication"]) as broker:
        code, elapsed, log = run_until_exit(broker.bootstrap, TopicSet.unique("tansu-auth"), tmp_path / "worker.log",
                                            security_env("SASL_PLAINTEXT", None, password=password))
    figures("auth-tansu-wrong-password", sent=0, processed=0, dead_lettered=0, duplicates=0, exit_code=code,
            exit_s=elapsed)
    assert_refused(code, elapsed, log, password, "authentication to the broker", "SCRAM-SHA-512", f"user '{USER}'")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("case", ["wrong-password", "unknown-user", "untrusted-certificate", "wrong-mechanism",
                                  "plaintext-to-tls"])
def test_wrong_credentials_or_tls_exit_3_with_a_clear_message(secured, certs, password, tmp_path, case):
    bootstrap, front = secured
    wrong = "Wr0ng-" + secrets.token_hex(8)
    env, expected = {
        "wrong-password": (security_env("SASL_SSL", certs["ca.crt"], password=wrong),
                           ["authentication to the broker", "refused the credentials", f"user '{USER}'"]),
        "unknown-user": (security_env("SASL_SSL", certs["ca.crt"], user="mallory", password=wrong),
                         ["authentication to the broker", "user 'mallory'"]),
        "untrusted-certificate": (security_env("SASL_SSL", certs["other-ca.crt"], password=password),
                                  ["TLS connection to the broker", "certificate is not trusted"]),
        "wrong-mechanism": (security_env("SASL_SSL", certs["ca.crt"], password=password, mechanism="SCRAM-SHA-256"),
                            ["does not offer SASL mechanism SCRAM-SHA-256"]),
        "plaintext-to-tls": ({**security_env("SASL_PLAINTEXT", None, password=password), "GBV_BROKER_WAIT_S": "3"},
                             ["could not be reached within 3s"]),
    }[case]
    code, elapsed, log = run_until_exit(bootstrap, TopicSet.unique("wrong"), tmp_path / "worker.log", env)
    figures(f"auth-{case}", sent=0, processed=0, dead_lettered=0, duplicates=0, exit_code=code, exit_s=elapsed)
    assert_refused(code, elapsed, log, password, *expected)
    assert wrong not in log


@pytest.mark.timeout(90)
def test_unreachable_broker_is_waited_for_a_bounded_time(tmp_path):
    port = free_port()                                   # nothing listens there
    code, elapsed, log = run_until_exit(f"127.0.0.1:{port}", TopicSet.unique("unreachable"), tmp_path / "worker.log",
                                        {"GBV_BROKER_WAIT_S": "3"})
    figures("auth-unreachable", sent=0, processed=0, dead_lettered=0, duplicates=0, exit_code=code, exit_s=elapsed)
    assert_refused(code, elapsed, log, "-no-password-", "could not be reached within 3s", "connection refused")
    assert elapsed >= 3.0


@pytest.mark.timeout(120)
def test_a_broker_that_comes_up_within_the_wait_is_used(tmp_path):
    port = free_port()
    topics = TopicSet.unique("late")
    mix = make_events(500, seed=SEED, prefix="late")
    worker = WorkerProcess(f"127.0.0.1:{port}", topics, tmp_path / "worker.log",
                           extra_env={"GBV_BROKER_WAIT_S": "60"}).start(wait=False)
    late = FaultBroker(tmp_path / "tansu.log")
    late.port = late.advertised_port = port               # the address the worker is waiting for
    try:
        time.sleep(4)
        assert worker.process.poll() is None, worker.log_tail()
        late.start()
        started = time.monotonic()
        worker.wait_ready(90)
        ready_s = time.monotonic() - started
        produce(late.bootstrap, topics.search, mix.records)
        drain_s = wait_group_done(late.bootstrap, topics.group, topics.search, mix.sent, timeout=60)
        assert worker.stop() == 0
        acc, _, _ = account(late.bootstrap, topics, mix)
    finally:
        worker.kill()
        late.stop()
    figures("auth-late-broker", sent=acc.sent, processed=acc.valid, dead_lettered=acc.dead_letter_events,
            duplicates=acc.duplicates, waited_s=4, ready_after_broker_s=ready_s, drain_s=drain_s)
    assert "broker not reachable yet" in worker.log_text()
    acc.check()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", ["sasl-without-password", "missing-ca-file"])
def test_unusable_security_settings_exit_2_without_a_traceback(tmp_path, case, password):
    env, expected = {
        "sasl-without-password": ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": USER},
                                  "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: are required with SASL_SSL"),
        "missing-ca-file": ({**security_env("SASL_SSL", tmp_path / "nowhere.pem", password=password)},
                            "KAFKA_SSL_CAFILE"),
    }[case]
    code, elapsed, log = run_until_exit("127.0.0.1:9", TopicSet.unique("config"), tmp_path / "worker.log", env)
    figures(f"auth-{case}", sent=0, processed=0, dead_lettered=0, duplicates=0, exit_code=code, exit_s=elapsed)
    print(f"\nworker said: {log.strip()}")
    assert code == 2 and expected in log and "Traceback" not in log
    assert password not in log
