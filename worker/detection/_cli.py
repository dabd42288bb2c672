"""Shared helpers of the developer CLIs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from worker.errors import ConfigErrors

from .engine import Detector, default_config_dir, load_detector


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config directory (default: $GBV_CONFIG_DIR or <repo>/config)",
    )


def detector_from_args(args: argparse.Namespace) -> Detector:
    try:
        det = load_detector(args.config if args.config is not None else default_config_dir(), skip_invalid=True)
    except ConfigErrors as e:
        print("configuration errors:", file=sys.stderr)
        for err in e.errors:
            print(f"  {err}", file=sys.stderr)
        raise SystemExit(2) from None
    if det.lexicons.skipped:
        files = sorted({e.file for e in det.lexicons.skipped})
        print(f"WARNING: skipping invalid lexicon file(s): {', '.join(files)}", file=sys.stderr)
        for err in det.lexicons.skipped:
            print(f"  {err}", file=sys.stderr)
    return det
