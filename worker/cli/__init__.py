"""The `gbv-worker` command line: Faust's CLI for this app plus the project's commands."""

from __future__ import annotations

import sys


def main() -> None:
    """Console script `gbv-worker` (faust -A worker.app conventions)."""
    from worker.app import app, config
    from worker.errors import ConfigError, ConfigErrors

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
    app.main()
