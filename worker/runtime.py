"""The configuration a running worker uses: detector + hotline registry + their versions.

Loaded and validated as one unit, swapped as one unit. A reload (SIGHUP or a file
change) builds a complete new `RuntimeConfig` first; only when it is valid does the
holder swap it in, between batches, so every event sees exactly one configuration.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from worker.detection import Detector, load_detector
from worker.errors import ConfigError, ConfigErrors
from worker.notices.registry import HotlineRegistry, StaleEntry, load_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeConfig:
    config_dir: Path
    detector: Detector
    registry: HotlineRegistry
    detector_version: str
    config_version: str


def load_runtime_config(config_dir: Path, today: dt.date | None = None) -> RuntimeConfig:
    """Load lexicons and countries together; raise ConfigErrors naming every problem."""
    config_dir = Path(config_dir)
    errors: list[ConfigError] = []
    registry = detector = None
    try:
        registry = load_registry(config_dir, today)
    except ConfigErrors as exc:
        errors.extend(exc.errors)
    try:
        detector = load_detector(config_dir)
    except ConfigErrors as exc:
        errors.extend(exc.errors)
    except ConfigError as exc:
        errors.append(exc)
    if errors or registry is None or detector is None:
        raise ConfigErrors(errors)
    # config_version covers everything a notice depends on: texts, hotlines, routing, lexicons.
    digest = hashlib.sha256(f"{registry.content_hash}/{detector.version}".encode()).hexdigest()
    return RuntimeConfig(config_dir, detector, registry, detector.version, "cfg-" + digest[:12])


def stale_entries(config: RuntimeConfig, max_age_days: int, today: dt.date | None = None) -> list[StaleEntry]:
    return config.registry.stale(today or dt.date.today(), max_age_days)


class ConfigHolder:
    """Holds the current RuntimeConfig; `reload()` swaps in a valid new one or keeps the old."""

    def __init__(self, config_dir: Path, on_change: Callable[[RuntimeConfig], None] | None = None,
                 on_rejected: Callable[[ConfigErrors], None] | None = None) -> None:
        self.config_dir = Path(config_dir)
        self._current: RuntimeConfig | None = None
        self._on_change = on_change
        self._on_rejected = on_rejected

    @property
    def loaded(self) -> bool:
        return self._current is not None

    @property
    def current(self) -> RuntimeConfig:
        if self._current is None:
            self.load()
        assert self._current is not None
        return self._current

    def load(self) -> RuntimeConfig:
        """First load: errors propagate (the worker refuses to start)."""
        self._current = load_runtime_config(self.config_dir)
        if self._on_change:
            self._on_change(self._current)
        return self._current

    def reload(self) -> bool:
        try:
            new = load_runtime_config(self.config_dir)
        except ConfigErrors as exc:
            log.error("Configuration reload rejected; keeping config_version %s:\n%s",
                      self._current.config_version if self._current else "(none)", exc)
            if self._on_rejected:
                self._on_rejected(exc)
            return False
        old = self._current
        self._current = new
        if self._on_change:
            self._on_change(new)
        log.info("Configuration reloaded: config_version %s -> %s, detector_version %s",
                 old.config_version if old else "(none)", new.config_version, new.detector_version)
        return True
