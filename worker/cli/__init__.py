"""The `gbv-worker` command line: Faust's CLI for this app plus the project's commands."""

from __future__ import annotations

import sys


def main() -> None:
    """Console script `gbv-worker` (faust -A worker.app conventions)."""
    from worker.errors import ConfigError, ConfigErrors

    try:
        from worker.app import app, config
    except ConfigError as exc:     # an environment variable that cannot work (e.g. SASL without a password)
        print(f"gbv-worker: refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        # Refuse to start on invalid configuration, with every problem named.
        try:
            config.load()
        except ConfigErrors as exc:
            print(f"gbv-worker: refusing to start: invalid configuration in {config.config_dir} "
                  f"({len(exc.errors)} problem(s)):", file=sys.stderr)
            for error in exc.errors:
                print(f"  {error}", file=sys.stderr)
            raise SystemExit(2) from None
        except ConfigError as exc:
            print(f"gbv-worker: refusing to start: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        # Refuse to start when the broker rejects our credentials or TLS (Faust would retry
        # forever); wait GBV_BROKER_WAIT_S for an unreachable one. Never prints the password.
        from worker.app import settings
        from worker.preflight import EXIT_CODE, BrokerCheckFailed, check_broker, stderr_report
        try:
            check_broker(settings, report=stderr_report)
        except BrokerCheckFailed as exc:
            print(f"gbv-worker: cannot start: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(EXIT_CODE) from None
    app.main()
