"""Broker authentication and encryption from the settings (SASL/SCRAM, TLS)."""

from __future__ import annotations

import ssl

import faust

from worker.errors import ConfigError
from worker.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH,
                                             cafile=settings.ssl_cafile or None)
    except (OSError, ssl.SSLError) as exc:     # missing file, or no certificate in it
        raise ConfigError("environment", "KAFKA_SSL_CAFILE",
                          f"{settings.ssl_cafile!r} is not a readable CA bundle ({exc.strerror or exc})") from None
    return context


def broker_credentials(settings: Settings):
    """Faust credentials for the configured protocol; None for PLAINTEXT."""
    protocol = settings.security_protocol.upper()
    if protocol not in PROTOCOLS:
        raise ConfigError("environment", "KAFKA_SECURITY_PROTOCOL", f"must be one of {', '.join(PROTOCOLS)}")
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    mechanism = settings.sasl_mechanism.upper()
    if mechanism not in MECHANISMS:
        raise ConfigError("environment", "KAFKA_SASL_MECHANISM", f"must be one of {', '.join(MECHANISMS)}")
    if not settings.sasl_username or not settings.sasl_password:
        raise ConfigError("environment", "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD",
                          f"are required with {protocol}")
    return faust.SASLCredentials(
        username=settings.sasl_username,
        password=settings.sasl_password,
        mechanism=mechanism,
        ssl_context=ssl_context(settings) if protocol == "SASL_SSL" else None,
    )


def aiokafka_options(settings: Settings) -> dict:
    """The same security for plain aiokafka clients (replay, capture, tail, bench)."""
    protocol = settings.security_protocol.upper()
    if protocol == "PLAINTEXT":
        return {}
    options: dict = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl_context(settings)
    if protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.sasl_mechanism.upper(),
                       sasl_plain_username=settings.sasl_username,
                       sasl_plain_password=settings.sasl_password)
    return options
