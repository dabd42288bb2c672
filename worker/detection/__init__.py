"""Multilingual GBV query detection (pure: no I/O on the detect path).

Public API::

    from worker.detection import load_detector, Detector, Detection, load_lexicons
    det = load_detector()                      # config dir: $GBV_CONFIG_DIR or <repo>/config
    det.detect("suami saya memukul saya", "ID")
    det.explain("pukul 5 sore", "ID")
    det.version                                # "det-" + 12 hex chars

Developer CLIs: ``python -m worker.detection.evaluate FILE``,
``python -m worker.detection.explain QUERY --country CC``,
``python -m worker.detection.benign FILE --country CC``.
"""

from .engine import (
    ENGINE_VERSION,
    NOT_GBV,
    Detection,
    Detector,
    active_languages,
    default_config_dir,
    load_country_languages,
    load_detector,
    locale_language,
)
from .lexicon import CATEGORIES, LexiconSet, load_lexicons
from .normalize import tokenize

__all__ = [
    "CATEGORIES",
    "ENGINE_VERSION",
    "NOT_GBV",
    "Detection",
    "Detector",
    "LexiconSet",
    "active_languages",
    "default_config_dir",
    "load_country_languages",
    "load_detector",
    "load_lexicons",
    "locale_language",
    "tokenize",
]
