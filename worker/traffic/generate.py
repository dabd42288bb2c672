"""`gbv-worker generate`: realistic synthetic search traffic for load tests.

Everyday searches mixed with GBV searches, in each country's languages (data/*.yaml:
templates with slots, written for this purpose; not the detection development set),
with the variation real search boxes see: capitalisation, missing Vietnamese tone
marks, typos, hashtags, run-together Thai/Korean, obfuscation (r4pe, k.d.r.t),
trailing words and code-mixing. Each event has a device locale and a session id
(sessions span several searches), a surface, and a `ts` that advances with Poisson
arrivals (epoch milliseconds, or RFC 3339 in the country's local time).

Deterministic: the same arguments give the same events, byte for byte. The generator
only intends a share of GBV searches (`positive_rate`); whether a given query shows a
notice is the detector's decision (typos and obfuscation defeat some on purpose).

    from worker.traffic.generate import generate_events
    for event in generate_events(100_000, 0.02, ["ID", "VN"], seed=7): ...
"""

from __future__ import annotations

import bisect
import functools
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import yaml

from worker.categories import CATEGORIES

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_START_MS = 1_796_083_200_000          # 2026-12-01T00:00:00Z
DEFAULT_EVENTS_PER_SECOND = 50.0
LATIN = frozenset({"id", "ms", "tl", "en", "vi"})
_SLOT = re.compile(r"\{(\w+)\}")

# Style variation probabilities (per search).
P_STRIP_TONES_VI = 0.45
P_CAPITALIZE = 0.10
P_UPPER = 0.02
P_TYPO = 0.06
P_OBFUSCATE_GBV = 0.03
P_NO_SPACES = 0.20            # th, ko
P_TAIL = 0.08
P_HASHTAG = 0.03
P_DOUBLE_SPACE = 0.015
P_COUNTRY_LOWER = 0.03
P_RFC3339 = 0.25
P_CONTINUE_SESSION = 0.6
P_NO_SESSION_ID = 0.08
MAX_OPEN_SESSIONS = 64


class DataError(ValueError):
    pass


class _Weighted:
    """Weighted choice with one random() and a bisect (random.choices is slower per call)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Iterable[tuple[object, float]]) -> None:
        self.items: list = []
        self.cum: list[float] = []
        total = 0.0
        for item, weight in pairs:
            if weight <= 0:
                continue
            total += float(weight)
            self.items.append(item)
            self.cum.append(total)
        if not self.items:
            raise DataError("no positive weights")
        self.total = total

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


class _Template:
    __slots__ = ("parts",)

    def __init__(self, text: str, slots: dict[str, list[str]], where: str) -> None:
        parts: list = []
        pos = 0
        for match in _SLOT.finditer(text):
            if match.start() > pos:
                parts.append(text[pos:match.start()])
            name = match.group(1)
            if name not in slots:
                raise DataError(f"{where}: unknown slot {{{name}}}")
            parts.append(slots[name])
            pos = match.end()
        if pos < len(text):
            parts.append(text[pos:])
        self.parts = tuple(parts)

    def render(self, rng: random.Random) -> str:
        choice = rng.choice
        return "".join(p if isinstance(p, str) else choice(p) for p in self.parts)


@dataclass(frozen=True)
class _Language:
    code: str
    everyday: tuple[_Template, ...]
    gbv: dict[str, tuple[_Template, ...]]
    tails_everyday: tuple[str, ...]
    tails_gbv: tuple[str, ...]


@dataclass(frozen=True)
class _Country:
    code: str
    weight: float
    utc_offset: timezone
    languages: _Weighted
    locales: _Weighted


@dataclass(frozen=True)
class _Pools:
    languages: dict[str, _Language]
    countries: dict[str, _Country]
    categories: _Weighted
    surfaces: _Weighted


def _strings(values, where: str) -> list[str]:
    if not isinstance(values, list) or not values:
        raise DataError(f"{where}: a non-empty list expected")
    return [str(v) for v in values]


def _load_language(path: Path) -> _Language:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    code = data.get("language")
    if code != path.stem:
        raise DataError(f"{path.name}: language must be {path.stem!r}")
    slots = {name: _strings(values, f"{path.name}: slots.{name}") for name, values in (data.get("slots") or {}).items()}
    everyday = tuple(_Template(t, slots, f"{path.name}: everyday") for t in _strings(data.get("everyday"),
                                                                                       f"{path.name}: everyday"))
    gbv: dict[str, tuple[_Template, ...]] = {}
    for category, templates in (data.get("gbv") or {}).items():
        if category not in CATEGORIES:
            raise DataError(f"{path.name}: unknown category {category!r}")
        gbv[category] = tuple(_Template(t, slots, f"{path.name}: gbv.{category}")
                              for t in _strings(templates, f"{path.name}: gbv.{category}"))
    if not gbv:
        raise DataError(f"{path.name}: no gbv templates")
    tails = data.get("tails") or {}
    return _Language(code, everyday, gbv, tuple(str(t) for t in tails.get("everyday") or ()),
                     tuple(str(t) for t in tails.get("gbv") or ()))


def _offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


@functools.lru_cache(maxsize=4)
def load_pools(data_dir: Path = DATA) -> _Pools:
    languages = {p.stem: _load_language(p) for p in sorted(data_dir.glob("*.yaml")) if p.stem != "countries"}
    raw = yaml.safe_load((data_dir / "countries.yaml").read_text(encoding="utf-8"))
    countries = {}
    for code, spec in raw.items():
        if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
            continue
        unknown = [lang for lang in spec["languages"] if lang not in languages]
        if unknown:
            raise DataError(f"countries.yaml: {code}: no query pool for {', '.join(unknown)}")
        countries[code] = _Country(code, float(spec["weight"]), _offset(spec["utc_offset"]),
                                   _Weighted(spec["languages"].items()),
                                   _Weighted((loc, w) for loc, w in spec["locales"]))
    return _Pools(languages, countries, _Weighted(raw["categories"].items()),
                  _Weighted((s, w) for s, w in raw["surfaces"]))


def known_countries() -> list[str]:
    return list(load_pools().countries)


# -- style variation -------------------------------------------------------------------------------
def _tone_table() -> dict[int, str]:
    table = {}
    for code in range(0x00C0, 0x1F00):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base != char and base:
            table[code] = base
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    return table


_TONES = _tone_table()
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"}
_NEAR = {"a": "s", "s": "a", "e": "r", "r": "e", "i": "o", "o": "i", "u": "y", "n": "m", "m": "n",
         "k": "j", "t": "y", "g": "h", "h": "g", "l": "k", "p": "o", "d": "f", "b": "v"}


def strip_tones(text: str) -> str:
    return text.translate(_TONES)


def _typo(query: str, rng: random.Random) -> str:
    words = query.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return query
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.3:
        word = word[:j] + word[j + 1:]                                    # dropped letter
    elif kind < 0.55:
        word = word[:j] + word[j] + word[j:]                              # doubled letter
    elif kind < 0.8:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2:]            # swapped letters
    else:
        word = word[:j] + _NEAR.get(word[j], word[j]) + word[j + 1:]      # neighbouring key
    words[i] = word
    return " ".join(words)


def _obfuscate(query: str, rng: random.Random) -> str:
    words = query.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 3 and w.isascii() and w.isalpha()]
    if not candidates:
        return query
    i = rng.choice(candidates)
    word = words[i]
    if len(word) <= 5 and rng.random() < 0.4:
        words[i] = ".".join(word)                                         # k.d.r.t
    else:
        positions = [k for k, c in enumerate(word) if c in _LEET]
        if not positions:
            return query
        k = rng.choice(positions)
        words[i] = word[:k] + _LEET[word[k]] + word[k + 1:]               # r4pe
    return " ".join(words)


def stylize(query: str, language: str, gbv: bool, pool: _Language, rng: random.Random) -> str:
    r = rng.random
    latin = language in LATIN
    if language == "vi" and r() < P_STRIP_TONES_VI:
        query = strip_tones(query)
    if latin:
        if r() < P_TYPO:
            query = _typo(query, rng)
        if gbv and r() < P_OBFUSCATE_GBV:
            query = _obfuscate(query, rng)
    elif language in ("th", "ko") and r() < P_NO_SPACES:
        query = query.replace(" ", "")
    tails = pool.tails_gbv if gbv else pool.tails_everyday
    if tails and r() < P_TAIL:
        tail = rng.choice(tails)
        query = query + tail if tail in ("?", "??") else f"{query} {tail}"
    if r() < P_HASHTAG and query.count(" ") <= 1 and "?" not in query:
        query = "#" + query.replace(" ", "")
    if latin:
        x = r()
        if x < P_CAPITALIZE:
            query = query[:1].upper() + query[1:]
        elif x < P_CAPITALIZE + P_UPPER:
            query = query.upper()
    if r() < P_DOUBLE_SPACE:
        query = query.replace(" ", "  ", 1)
    return query


# -- events ----------------------------------------------------------------------------------------
def _rfc3339(ts_ms: int, tz: timezone) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz).isoformat(timespec="milliseconds")


def _corrupt(event: dict, rng: random.Random) -> None:
    """Turn a good event into one the worker dead-letters (for `invalid_rate`)."""
    kind = rng.randrange(5)
    if kind == 0:
        del event["query"]
    elif kind == 1:
        event["ts"] = "yesterday"
    elif kind == 2:
        event["country"] = event["country"] + "X"
    elif kind == 3:
        event["query"] = len(event["query"])
    else:
        event["event_id"] = ""


def generate_events(n: int, positive_rate: float = 0.02, countries: Sequence[str] | None = None, seed: int = 0,
                    *, start_ms: int = DEFAULT_START_MS, events_per_second: float = DEFAULT_EVENTS_PER_SECOND,
                    invalid_rate: float = 0.0) -> Iterator[dict]:
    """`n` search events (dicts, ready for orjson.dumps), deterministic for the arguments.

    `positive_rate`: share of searches drawn from the GBV pools. `countries`: ISO codes
    (default: all seven, weighted by traffic share). `events_per_second`: the recorded
    pace the `ts` values advance at (Poisson arrivals). `invalid_rate`: share of events
    broken on purpose (dead-letter traffic)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= positive_rate <= 1.0:
        raise ValueError("positive_rate must be within 0..1")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid_rate must be within 0..1")
    if events_per_second <= 0:
        raise ValueError("events_per_second must be positive")
    pools = load_pools()
    if isinstance(countries, str):
        countries = countries.split(",")
    wanted = [c.strip().upper() for c in (countries or pools.countries) if c and c.strip()]
    unknown = [c for c in wanted if c not in pools.countries]
    if unknown or not wanted:
        raise ValueError(f"unknown country {', '.join(unknown) or '(none)'}: "
                         f"choose from {', '.join(pools.countries)}")
    wanted = list(dict.fromkeys(wanted))
    country_pick = _Weighted((pools.countries[c], pools.countries[c].weight) for c in wanted)
    rng = random.Random(seed)
    r = rng.random
    sessions: dict[str, list[tuple[str, str | None]]] = {c: [] for c in wanted}
    languages = pools.languages
    mean_gap_ms = 1000.0 / events_per_second
    ts = float(start_ms)
    prefix = f"gen{seed}-"
    width = max(7, len(str(max(n - 1, 0))))
    for i in range(n):
        ts += rng.expovariate(1.0) * mean_gap_ms
        ts_ms = int(ts)
        country: _Country = country_pick.pick(rng)
        open_sessions = sessions[country.code]
        if open_sessions and r() < P_CONTINUE_SESSION:
            session_id, locale = open_sessions[rng.randrange(len(open_sessions))]
        else:
            session_id, locale = f"{rng.getrandbits(48):012x}", country.locales.pick(rng)
            if len(open_sessions) >= MAX_OPEN_SESSIONS:
                open_sessions[rng.randrange(len(open_sessions))] = (session_id, locale)
            else:
                open_sessions.append((session_id, locale))
        language: _Language = languages[country.languages.pick(rng)]
        gbv = r() < positive_rate
        if gbv:
            category = pools.categories.pick(rng)
            templates = language.gbv.get(category) or languages["en"].gbv[category]
        else:
            templates = language.everyday
        query = stylize(rng.choice(templates).render(rng), language.code, gbv, language, rng)
        event: dict = {
            "event_id": f"{prefix}{i:0{width}d}",
            "ts": _rfc3339(ts_ms, country.utc_offset) if r() < P_RFC3339 else ts_ms,
            "query": query,
            "country": country.code.lower() if r() < P_COUNTRY_LOWER else country.code,
        }
        if locale is not None:
            event["locale"] = locale
        if r() >= P_NO_SESSION_ID:
            event["session_id"] = session_id
        surface = pools.surfaces.pick(rng)
        if surface is not None:
            event["surface"] = surface
        if invalid_rate and r() < invalid_rate:
            _corrupt(event, rng)
        yield event


def write_events(events: Iterable[dict], out: str) -> int:
    """JSONL to a path (`-` for stdout; gzip when it ends in .gz). Returns the count."""
    import orjson

    from worker.traffic.records import open_output

    handle = open_output(out)
    count = 0
    try:
        buffer: list[bytes] = []
        for event in events:
            buffer.append(orjson.dumps(event))
            count += 1
            if len(buffer) >= 4096:
                handle.write(b"\n".join(buffer) + b"\n")
                buffer.clear()
        if buffer:
            handle.write(b"\n".join(buffer) + b"\n")
    finally:
        if out == "-":
            handle.flush()
        else:
            handle.close()
    return count
