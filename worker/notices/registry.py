"""The hotline registry: per-country notice texts, hotlines and category routing, from YAML.

Loading validates everything and reports every problem with its file and field, so a
reviewer can fix a configuration in one pass. Adding a country is adding a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from worker.categories import CATEGORIES
from worker.errors import ConfigError, ConfigErrors
from worker.notices.hours import HoursError, OpeningHours, parse_hours

CHANNELS = ("phone", "sms", "whatsapp", "line", "kakaotalk", "chat", "email", "web")
NUMBER_CHANNELS = ("phone", "sms", "whatsapp")
# A phone number: digits with spaces, dashes, dots or brackets, optional leading +, 3..15 digits.
_PHONE = re.compile(r"^\+?[0-9(][0-9 ()\-.]*[0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s]+$")
_HANDLE = re.compile(r"^@?[A-Za-z0-9._\-]{2,64}$")
_LANG = re.compile(r"^[a-z]{2,3}$")
TEXT_KEYS = ("title", "body", "safety")
HOTLINE_KEYS = {"id", "organisation", "name", "channels", "hours", "free", "languages", "source",
                "confidence", "verified_on", "note"}
COUNTRY_KEYS = {"country", "name", "timezone", "default_language", "languages", "notices", "hotlines",
                "routing"}
CONFIDENCE = ("H", "M", "L")


@dataclass(frozen=True)
class Hotline:
    id: str
    organisation: str
    name: str
    channels: Mapping[str, str]
    hours: OpeningHours
    free: bool | None
    languages: tuple[str, ...]
    source: str
    confidence: str
    verified_on: dt.date
    note: str = ""


@dataclass(frozen=True)
class NoticeText:
    title: str
    body: str
    safety: str


@dataclass(frozen=True)
class CountryNotices:
    country: str
    name: str
    timezone: str
    default_language: str
    languages: tuple[str, ...]
    texts: Mapping[str, NoticeText]
    hotlines: Mapping[str, Hotline]
    routing: Mapping[str, tuple[str, ...]]      # category -> hotline ids, in order
    always_open: tuple[str, ...]                # 24/7 hotlines with a channel, in file order


@dataclass(frozen=True)
class StaleEntry:
    country: str
    hotline_id: str
    verified_on: dt.date
    age_days: int


@dataclass(frozen=True)
class HotlineRegistry:
    countries: Mapping[str, CountryNotices]
    fallback_country: str | None
    content_hash: str

    def get(self, country: str) -> CountryNotices | None:
        return self.countries.get(country)

    def verification_ages(self, today: dt.date) -> list[StaleEntry]:
        """Every hotline with the days since it was verified (for the freshness gauge)."""
        return [StaleEntry(cc, h.id, h.verified_on, (today - h.verified_on).days)
                for cc, c in sorted(self.countries.items()) for h in c.hotlines.values()]

    def stale(self, today: dt.date, max_age_days: int) -> list[StaleEntry]:
        return [e for e in self.verification_ages(today) if e.age_days > max_age_days]

    @classmethod
    def load(cls, config_dir: Path) -> "HotlineRegistry":
        return load_registry(Path(config_dir))


class _Collector:
    """Collects ConfigErrors for one file so all of them are reported together."""

    def __init__(self, file: Path) -> None:
        self.file = str(file)
        self.errors: list[ConfigError] = []

    def error(self, field: str, problem: str) -> None:
        self.errors.append(ConfigError(self.file, field, problem))


def _text(c: _Collector, obj: Mapping, key: str, field: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            c.error(field, "is required")
        return ""
    if not isinstance(value, str) or not value.strip():
        c.error(field, "must be a non-empty string")
        return ""
    return value.strip()


def _channel_problem(kind: str, value: str) -> str | None:
    if kind in NUMBER_CHANNELS:
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE.match(value) or not 3 <= digits <= 15:
            return f"{value!r} does not look like a phone number"
    elif kind == "email":
        if not _EMAIL.match(value):
            return f"{value!r} does not look like an e-mail address"
    elif kind in ("web", "chat"):
        if not _URL.match(value) and not (kind == "chat" and _HANDLE.match(value)):
            return f"{value!r} is not an http(s) URL"
    elif not _HANDLE.match(value):
        return f"{value!r} is not a valid {kind} id"
    return None


def _hotline(c: _Collector, raw: Any, field: str, today: dt.date) -> Hotline | None:
    if not isinstance(raw, dict):
        c.error(field, "must be a mapping")
        return None
    for key in sorted(set(raw) - HOTLINE_KEYS):
        c.error(f"{field}.{key}", "unknown key")
    hotline_id = _text(c, raw, "id", f"{field}.id")
    organisation = _text(c, raw, "organisation", f"{field}.organisation")
    name = _text(c, raw, "name", f"{field}.name")
    source = _text(c, raw, "source", f"{field}.source")
    channels_raw = raw.get("channels", {})
    channels: dict[str, str] = {}
    if channels_raw is None:
        channels_raw = {}
    if not isinstance(channels_raw, dict):
        c.error(f"{field}.channels", "must be a mapping of channel to value")
        channels_raw = {}
    for kind, value in channels_raw.items():
        cf = f"{field}.channels.{kind}"
        if kind not in CHANNELS:
            c.error(cf, f"unknown channel (use one of {', '.join(CHANNELS)})")
            continue
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            c.error(cf, "must be a non-empty string")
            continue
        problem = _channel_problem(kind, value.strip())
        if problem:
            c.error(cf, problem)
        channels[kind] = value.strip()
    try:
        hours = parse_hours(raw.get("hours"))
    except HoursError as exc:
        c.error(f"{field}.hours", str(exc))
        hours = OpeningHours(always_open=False, known=False)
    free = raw.get("free")
    if free not in (True, False, None):
        c.error(f"{field}.free", "must be true, false or absent (unknown)")
        free = None
    languages = raw.get("languages", [])
    if not isinstance(languages, list) or not all(isinstance(x, str) and _LANG.match(x) for x in languages):
        c.error(f"{field}.languages", "must be a list of language codes such as [id, en]")
        languages = []
    confidence = raw.get("confidence")
    if confidence not in CONFIDENCE:
        c.error(f"{field}.confidence", f"must be one of {', '.join(CONFIDENCE)}")
    verified = raw.get("verified_on")
    if isinstance(verified, str):
        try:
            verified = dt.date.fromisoformat(verified)
        except ValueError:
            pass
    if not isinstance(verified, dt.date) or isinstance(verified, dt.datetime):
        c.error(f"{field}.verified_on", "must be a date (YYYY-MM-DD)")
        verified = dt.date.min
    elif verified > today + dt.timedelta(days=1):
        c.error(f"{field}.verified_on", f"{verified.isoformat()} is in the future")
    if not hotline_id:
        return None
    return Hotline(hotline_id, organisation, name, channels, hours, free, tuple(languages), source,
                   str(confidence), verified, str(raw.get("note") or ""))


def load_country(path: Path, today: dt.date | None = None) -> tuple[CountryNotices | None, list[ConfigError]]:
    today = today or dt.date.today()
    c = _Collector(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(document)"
        c.error(where, f"YAML does not parse: {getattr(exc, 'problem', exc)}")
        return None, c.errors
    if not isinstance(doc, dict):
        c.error("(document)", "must be a mapping")
        return None, c.errors
    for key in sorted(set(doc) - COUNTRY_KEYS):
        c.error(key, "unknown key")
    country = _text(c, doc, "country", "country")
    if country and country != path.stem:
        c.error("country", f"{country!r} does not match the file name {path.name!r}")
    if country and (len(country) != 2 or not country.isupper() or not country.isalpha()):
        c.error("country", "must be an upper-case ISO 3166-1 alpha-2 code")
    name = _text(c, doc, "name", "name")
    timezone = _text(c, doc, "timezone", "timezone")
    if timezone:
        try:
            parse_hours({"timezone": timezone, "weekly": {"mon": "00:00-24:00"}})
        except HoursError as exc:
            c.error("timezone", str(exc))
    languages = doc.get("languages")
    if not isinstance(languages, list) or not languages or not all(
            isinstance(x, str) and _LANG.match(x) for x in languages):
        c.error("languages", "must be a non-empty list of language codes such as [id, en]")
        languages = []
    default_language = _text(c, doc, "default_language", "default_language")
    if default_language and languages and default_language not in languages:
        c.error("default_language", f"{default_language!r} is not in languages")

    texts: dict[str, NoticeText] = {}
    notices = doc.get("notices")
    if not isinstance(notices, dict):
        c.error("notices", "must map each language to its title, body and safety text")
        notices = {}
    for lang in languages:
        if lang not in notices:
            c.error(f"notices.{lang}", "missing: every supported language needs the notice text")
    for lang, text in notices.items():
        if lang not in languages:
            c.error(f"notices.{lang}", "language is not in languages")
            continue
        if not isinstance(text, dict):
            c.error(f"notices.{lang}", "must be a mapping with title, body and safety")
            continue
        for key in sorted(set(text) - set(TEXT_KEYS)):
            c.error(f"notices.{lang}.{key}", "unknown key")
        texts[lang] = NoticeText(*(_text(c, text, k, f"notices.{lang}.{k}") for k in TEXT_KEYS))

    hotlines: dict[str, Hotline] = {}
    raw_hotlines = doc.get("hotlines")
    if not isinstance(raw_hotlines, list) or not raw_hotlines:
        c.error("hotlines", "must be a non-empty list")
        raw_hotlines = []
    for i, raw in enumerate(raw_hotlines):
        hotline = _hotline(c, raw, f"hotlines[{i}]", today)
        if hotline is None:
            continue
        if hotline.id in hotlines:
            c.error(f"hotlines[{i}].id", f"duplicate hotline id {hotline.id!r}")
        hotlines[hotline.id] = hotline
    always_open = tuple(h.id for h in hotlines.values() if h.hours.always_open and h.channels)
    if raw_hotlines and not always_open:
        c.error("hotlines", "no 24/7 hotline with a channel: every country needs one")

    routing: dict[str, tuple[str, ...]] = {}
    raw_routing = doc.get("routing")
    if not isinstance(raw_routing, dict):
        c.error("routing", "must map every category to a list of hotline ids")
        raw_routing = {}
    for category in CATEGORIES:
        if category not in raw_routing:
            c.error(f"routing.{category}", "missing: every category needs at least one hotline")
    for category, ids in raw_routing.items():
        field = f"routing.{category}"
        if category not in CATEGORIES:
            c.error(field, f"unknown category (use one of {', '.join(CATEGORIES)})")
            continue
        if not isinstance(ids, list) or not ids:
            c.error(field, "must be a non-empty list of hotline ids")
            continue
        for hid in ids:
            if hid not in hotlines:
                c.error(field, f"unknown hotline id {hid!r}")
            elif not hotlines[hid].channels:
                c.error(field, f"hotline {hid!r} has no channel to show (number not found)")
        routing[category] = tuple(ids)

    if c.errors:
        return None, c.errors
    return CountryNotices(country, name, timezone, default_language, tuple(languages), texts, hotlines,
                          routing, always_open), []


def load_registry(config_dir: Path, today: dt.date | None = None) -> HotlineRegistry:
    """Load config_dir/countries/*.yaml and config_dir/notices.yaml; raise ConfigErrors listing every problem."""
    errors: list[ConfigError] = []
    countries: dict[str, CountryNotices] = {}
    digest = hashlib.sha256()
    country_dir = config_dir / "countries"
    files = sorted(country_dir.glob("*.yaml")) if country_dir.is_dir() else []
    if not files:
        errors.append(ConfigError(str(country_dir), "(directory)", "no country files (<CC>.yaml)"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        notices, problems = load_country(path, today)
        errors.extend(problems)
        if notices is not None:
            countries[notices.country] = notices

    fallback_country = None
    settings_path = config_dir / "notices.yaml"
    if settings_path.exists():
        digest.update(b"notices.yaml\0" + settings_path.read_bytes())
        try:
            doc = yaml.safe_load(settings_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            errors.append(ConfigError(str(settings_path), "(document)", f"YAML does not parse: {exc}"))
            doc = {}
        if not isinstance(doc, dict):
            errors.append(ConfigError(str(settings_path), "(document)", "must be a mapping"))
            doc = {}
        for key in sorted(set(doc) - {"unsupported_country_fallback"}):
            errors.append(ConfigError(str(settings_path), key, "unknown key"))
        fallback = doc.get("unsupported_country_fallback", "none")
        if fallback not in (None, "none"):
            if not isinstance(fallback, str) or fallback not in countries:
                errors.append(ConfigError(str(settings_path), "unsupported_country_fallback",
                                          f"{fallback!r} is neither 'none' nor a configured country"))
            else:
                fallback_country = fallback
    if errors:
        raise ConfigErrors(errors)
    return HotlineRegistry(countries, fallback_country, "cfg-" + digest.hexdigest()[:12])
