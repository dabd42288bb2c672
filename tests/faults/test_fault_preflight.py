"""The startup broker check (worker/preflight.py), pure parts: addresses, and messages that
name the user but never the password. The end-to-end cases are in test_fault_auth.py."""

from __future__ import annotations

import ssl

from aiokafka import errors

from worker.preflight import _classify, _Fatal, bootstrap_hosts, describe_security
from worker.settings import Settings

SECRET = "hunter2-Secret"


def settings(**env) -> Settings:
    return Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "gbv",
                              "KAFKA_SASL_PASSWORD": SECRET, **env})


def test_bootstrap_hosts():
    s = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "a:1, b.example:9093,[::1]:9094,,c"})
    assert bootstrap_hosts(s) == [("a", 1), ("b.example", 9093), ("::1", 9094), ("c", 9092)]


def test_description_names_protocol_mechanism_and_user_only():
    text = describe_security(settings())
    assert text == "SASL_SSL, SASL SCRAM-SHA-512, user 'gbv'" and SECRET not in text
    assert describe_security(Settings.from_env({})) == "PLAINTEXT"


def test_classification():
    s = settings()
    fatal = {
        "auth": [errors.SaslAuthenticationFailed(f"bad password {SECRET}"), errors.UnsupportedSaslMechanismError(),
                 KeyError("v"), ValueError("Server sent wrong signature!")],
        "tls": [ssl.SSLCertVerificationError(1, "certificate verify failed"), ssl.SSLError(1, "WRONG_VERSION")],
    }
    for kind, excs in fatal.items():
        for exc in excs:
            verdict = _classify(exc, s)
            assert isinstance(verdict, _Fatal) and verdict.kind == kind, (exc, verdict)
            assert SECRET not in verdict.detail
    for exc in (ConnectionRefusedError(111, "refused"), TimeoutError(), errors.KafkaConnectionError("closed"),
                ssl.SSLEOFError(8, "EOF")):
        assert isinstance(_classify(exc, s), str), exc
    # Without SASL a KeyError is not an authentication failure.
    assert isinstance(_classify(KeyError("v"), Settings.from_env({})), str)
