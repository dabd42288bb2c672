"""GBV query detection: Aho-Corasick matching of normalised query views.

Usage::

    det = load_detector(Path("config"))          # or Detector(load_lexicons(...), {...})
    det.detect("suami saya memukul saya", "ID")  # Detection(is_gbv=True, category=..., rule_ids=(...))
    det.explain("pukul 5 sore", "ID")            # dict: views, rules, exclusions, decision

No I/O happens on the detect path. One automaton is compiled per set of active
languages (country languages + en + locale language) and cached.

Views of a query (see normalize.py) and what is matched in each:
- W  words ``" a b c "``: Latin terms as ``" term "`` (whole words) or ``" pre"``
  (trailing ``*``); when the query has no Vietnamese marks W also serves as V;
- S  stems (only when an active lexicon has ``affixes`` and stripping changed a
  token): Latin terms of the affix languages;
- V  toneless (only when Vietnamese is active and the query carries marks):
  Vietnamese terms without marks; a hit is kept when the marks the query does carry
  agree with the term's (``hiệp`` never matches the term ``hiếp``, ``hiep`` does);
- D  numbers (W with digit-only tokens as ``#``): word terms containing ``{num}``;
- N  nospace (tokens joined, only when the query has Thai/Hangul/Han): Thai,
  Korean and Chinese terms, matched anywhere;
- ND nospace numbers: nospace terms containing ``{num}``.

Span exclusions remove every rule/concept hit overlapping them (positions are compared
in N coordinates, i.e. characters of the tokens joined without spaces). Query
exclusions veto the query.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick_rs
import yaml

from worker.errors import ConfigError, ConfigErrors

from .lexicon import Lexicon, LexiconSet, ParsedTerm, Rule, load_lexicons
from .normalize import (
    NUM_SENTINEL,
    NUM_TOKEN,
    REPEAT_TRIGGERS,
    Stemmer,
    collapse_repeats,
    has_nospace_script,
    mark_set,
    strip_marks,
    tokenize,
)

__all__ = [
    "ENGINE_VERSION",
    "Detection",
    "Detector",
    "NOT_GBV",
    "active_languages",
    "default_config_dir",
    "load_country_languages",
    "load_detector",
    "locale_language",
]

ENGINE_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class Detection:
    is_gbv: bool
    category: str | None
    rule_ids: tuple[str, ...]


NOT_GBV = Detection(False, None, ())

# segment kinds
SEG_W, SEG_WV, SEG_S, SEG_V, SEG_D, SEG_N, SEG_ND = range(7)
SEG_NAMES = ("words", "words", "stems", "toneless", "numbers", "nospace", "nospace_numbers")
_WORD_SEGS = (SEG_W, SEG_WV, SEG_S, SEG_V, SEG_D)

_LOCALE_ALIASES = {
    "fil": "tl", "tgl": "tl", "in": "id", "ind": "id", "zsm": "ms", "msa": "ms", "may": "ms",
    "kor": "ko", "tha": "th", "vie": "vi", "zho": "zh", "chi": "zh", "cmn": "zh", "yue": "zh",
    "eng": "en",
}
_DIGIT = re.compile(r"\d").search
_MEMO_MAX = 100_000
_CACHE_MAX = 256


def locale_language(locale: str | None) -> str | None:
    """BCP 47 primary subtag, lower-cased, with aliases ("fil" -> "tl", "in" -> "id")."""
    if not locale:
        return None
    primary = re.split(r"[-_.@]", locale.strip(), maxsplit=1)[0].lower()
    if not primary:
        return None
    return _LOCALE_ALIASES.get(primary, primary)


def active_languages(
    available: Sequence[str] | Mapping[str, Any],
    country_languages: Mapping[str, Sequence[str]],
    country: str | None,
    locale: str | None = None,
) -> tuple[str, ...]:
    """Country languages (in config order) + en + the locale language, those with a lexicon."""
    avail = set(available)
    cc = (country or "").strip().upper()
    wanted = list(country_languages.get(cc, ()))
    wanted.append("en")
    loc = locale_language(locale)
    if loc:
        wanted.append(loc)
    out: list[str] = []
    for lang in wanted:
        if lang in avail and lang not in out:
            out.append(lang)
    return tuple(out)


# --- compiled matcher for one active language set ------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    bit: int
    segs: frozenset[int]
    raw: str
    lang: str
    toned: str | None  # Vietnamese: the term with its marks, checked against the query
    signal: int


class _Compiled:
    """Automaton, per-pattern signal masks and decision table for one language set."""

    def __init__(self, lexset: LexiconSet, langs: tuple[str, ...]) -> None:
        self.langs = langs
        lexicons: list[Lexicon] = [lexset.lexicons[lang] for lang in langs]
        # signals: direct rules first (bit order == priority), then the rest
        self.signal_names: list[tuple[str, str]] = []  # (kind, name)
        direct: list[Rule] = [r for lx in lexicons for r in lx.rules if not r.is_combination]
        self.rules_by_bit: list[Rule] = direct
        for r in direct:
            self.signal_names.append(("rule", r.id))
        self.direct_mask = (1 << len(direct)) - 1
        concept_bit: dict[str, int] = {}
        for name in lexset.vocabulary:
            concept_bit[name] = 1 << len(self.signal_names)
            self.signal_names.append(("concept", name))
        self.concept_bit = concept_bit

        patterns: dict[str, list[_Entry]] = {}
        self.vi = "vi" in langs
        self.has_ns = False
        self.has_wnum = False
        self.has_nnum = False
        affix_langs = [lx for lx in lexicons if lx.affixes is not None]
        affix_set = {lx.language for lx in affix_langs}

        def add(term: ParsedTerm, lang: str, bit: int) -> None:
            toks = term.tokens
            vi = lang == "vi"
            toned = None
            if term.kind == "nospace":
                self.has_ns = True
                if term.has_num:
                    self.has_nnum = True
                    pat = "".join(NUM_TOKEN if t == NUM_SENTINEL else t for t in toks)
                    segs = frozenset({SEG_ND})
                else:
                    pat = "".join(toks)
                    segs = frozenset({SEG_N})
            elif term.has_num:
                self.has_wnum = True
                pat = " " + " ".join(NUM_TOKEN if t == NUM_SENTINEL else t for t in toks) + " "
                if self.vi:
                    pat = strip_marks(pat)
                segs = frozenset({SEG_D})
            else:
                pat = " " + " ".join(toks) + ("" if term.prefix else " ")
                if vi:
                    bare = strip_marks(pat)
                    toned = pat if bare != pat else None
                    pat = bare
                    segs = frozenset({SEG_V, SEG_WV})
                elif lang in affix_set:
                    segs = frozenset({SEG_W, SEG_WV, SEG_S})
                else:
                    segs = frozenset({SEG_W, SEG_WV})
            signal = bit.bit_length() - 1
            patterns.setdefault(pat, []).append(_Entry(bit, segs, term.raw, lang, toned, signal))

        for lx, r in ((lx, r) for lx in lexicons for r in lx.rules if not r.is_combination):
            bit = 1 << self.rules_by_bit.index(r)
            for t in r.terms:
                add(t, lx.language, bit)
        for lx in lexicons:
            for cname, terms in lx.concepts.items():
                for t in terms:
                    add(t, lx.language, concept_bit[cname])

        # combinations: language-file `all:` rules (lexicon order), then combinations.yaml
        self.combos: list[tuple[Rule, tuple[int, ...]]] = []
        self.group_terms: dict[int, tuple[str, int]] = {}  # group bit -> (rule id, group index)
        for lx in lexicons:
            for r in lx.rules:
                if not r.is_combination:
                    continue
                gmasks = []
                for gi, g in enumerate(r.all):
                    if isinstance(g, str):
                        gmasks.append(concept_bit[g])
                    else:
                        gbit = 1 << len(self.signal_names)
                        self.signal_names.append(("group", f"{r.id}.all[{gi}]"))
                        for t in g:
                            add(t, lx.language, gbit)
                        gmasks.append(gbit)
                self.combos.append((r, tuple(gmasks)))
        for r in lexset.combinations:
            gmasks = []
            for g in r.all:
                names = (g,) if isinstance(g, str) else g
                m = 0
                for n in names:
                    m |= concept_bit[n]
                gmasks.append(m)
            self.combos.append((r, tuple(gmasks)))

        self.spanx = 0
        self.queryx = 0
        self.exclusions: dict[int, Any] = {}
        for lx in lexicons:
            for x in lx.exclusions:
                bit = 1 << len(self.signal_names)
                self.signal_names.append(("exclusion", x.id))
                self.exclusions[bit] = x
                if x.scope == "query":
                    self.queryx |= bit
                else:
                    self.spanx |= bit
                for t in x.terms:
                    add(t, lx.language, bit)
        self.excl_mask = self.spanx | self.queryx
        self.keep_mask = ~self.spanx
        # a run of 3 identical letters: re-tokenise with repeats collapsed
        self.repeat_bit = 1 << len(self.signal_names)
        self.signal_names.append(("repeat", "repeat"))
        all_segs = frozenset(range(7))
        for trig in REPEAT_TRIGGERS:
            patterns.setdefault(trig, []).append(_Entry(self.repeat_bit, all_segs, trig, "", None, -1))

        # stemming over the affix languages
        self.stemmer: Stemmer | None = None
        if affix_langs:
            known: set[str] = set()
            for pat, entries in patterns.items():
                for e in entries:
                    if e.lang in affix_set and pat.startswith(" ") and pat.endswith(" ") and e.signal >= 0:
                        known.update(pat.split())
            known.discard(NUM_TOKEN)
            pre, suf, inf, red = [], [], [], False
            for lx in affix_langs:
                a = lx.affixes
                assert a is not None
                pre += a.prefixes
                suf += a.suffixes
                inf += a.infixes
                red = red or a.reduplication
            self.stemmer = Stemmer(pre, suf, known, infixes=inf, reduplication=red)

        # automaton and per-segment masks
        self.patterns: list[str] = list(patterns)
        self.entries: list[tuple[_Entry, ...]] = [tuple(patterns[p]) for p in self.patterns]
        self.masks: list[list[int]] = [[0] * len(self.patterns) for _ in range(7)]
        self.vi_toned: dict[int, tuple[_Entry, ...]] = {}
        for pid, entries in enumerate(self.entries):
            toned = []
            for e in entries:
                for seg in e.segs:
                    if seg == SEG_V and e.toned is not None:
                        toned.append(e)
                        continue
                    self.masks[seg][pid] |= e.bit
            if toned:
                self.vi_toned[pid] = tuple(toned)
        self.trigger_pids = frozenset(
            pid for pid, es in enumerate(self.entries) if any(e.bit == self.repeat_bit for e in es)
        )
        self.ac = (
            ahocorasick_rs.AhoCorasick(self.patterns, implementation=ahocorasick_rs.Implementation.DFA)
            if self.patterns
            else None
        )
        self._memo: dict[int, Detection] = {}

    # -- views ---------------------------------------------------------------------

    def views(self, toks: list[str]) -> list[tuple[int, str]]:
        """(segment kind, text) pairs to match for these tokens; W first."""
        w = " " + " ".join(toks) + " "
        out: list[tuple[int, str]] = []
        v = None
        if self.vi and not w.isascii():
            v = strip_marks(w)
            if v == w:
                v = None
        out.append((SEG_WV if v is None else SEG_W, w))
        if self.stemmer is not None:
            st = self.stemmer.stem_tokens(toks)
            if st != toks:
                out.append((SEG_S, " " + " ".join(st) + " "))
        if v is not None:
            out.append((SEG_V, v))
        ns = self.has_ns and not w.isascii() and has_nospace_script(w)
        if ns:
            out.append((SEG_N, "".join(toks)))
        if (self.has_wnum or (self.has_nnum and ns)) and _DIGIT(w):
            dt = [NUM_TOKEN if t.isdecimal() else t for t in toks]
            if dt != toks:
                if self.has_wnum:
                    d = " " + " ".join(dt) + " "
                    out.append((SEG_D, strip_marks(d) if self.vi else d))
                if self.has_nnum and ns:
                    out.append((SEG_ND, "".join(dt)))
        return out

    # -- detection -------------------------------------------------------------------

    def scan(self, views: list[tuple[int, str]]) -> list[tuple[int, int, int, int]]:
        """Raw automaton hits over all views: (segment kind, pattern id, start, end)."""
        assert self.ac is not None
        find = self.ac.find_matches_as_indexes
        if len(views) == 1:
            seg, text = views[0]
            return [(seg, pid, s, e) for pid, s, e in find(text, overlapping=True)]
        starts = []
        pos = 0
        for _, text in views:
            starts.append(pos)
            pos += len(text) + 1
        hay = "\0".join(text for _, text in views)
        out = []
        for pid, s, e in find(hay, overlapping=True):
            i = bisect.bisect_right(starts, s) - 1
            off = starts[i]
            out.append((views[i][0], pid, s - off, e - off))
        return out

    def detect(self, query: str) -> Detection:
        if self.ac is None:
            return NOT_GBV
        toks = tokenize(query, collapse=False)
        if not toks:
            return NOT_GBV
        views = self.views(toks)
        mask = 0
        if len(views) == 1:
            seg, text = views[0]
            arr = self.masks[seg]
            for m in self.ac.find_matches_as_indexes(text, overlapping=True):
                mask |= arr[m[0]]
        else:
            mask = self._mask(views)
        if not mask:
            return NOT_GBV
        if mask & self.repeat_bit:
            toks2 = collapse_repeats(toks)
            if toks2 != toks:
                toks = toks2
                views = self.views(toks)
                mask = self._mask(views)
            mask &= ~self.repeat_bit
        if mask & self.spanx:
            mask = self._masked(toks, views)
        return self.decide(mask)

    def tokens(self, query: str) -> list[str]:
        """The tokens ``detect`` ends up matching (repeats collapsed when the automaton saw one)."""
        toks = tokenize(query, collapse=False)
        col = collapse_repeats(toks)
        if col != toks and any(h[1] in self.trigger_pids for h in self.scan(self.views(toks))):
            return col
        return toks

    def _mask(self, views: list[tuple[int, str]]) -> int:
        w = views[0][1]
        vi_toned = self.vi_toned
        masks = self.masks
        mask = 0
        for seg, pid, s, e in self.scan(views):
            mask |= masks[seg][pid]
            if seg == SEG_V and pid in vi_toned:
                q = w[s:e]
                for ent in vi_toned[pid]:
                    if _marks_agree(q, ent.toned):  # type: ignore[arg-type]
                        mask |= ent.bit
        return mask

    def hits(self, toks: list[str], views: list[tuple[int, str]]) -> list[tuple[int, int, int, int, int, int, int]]:
        """Every hit: (segment, pattern id, start, end, accepted bits, n_start, n_end)."""
        if self.ac is None:
            return []
        w = views[0][1]
        cum = [0]
        for t in toks:
            cum.append(cum[-1] + len(t))
        cum_nd = None
        out = []
        rb = ~self.repeat_bit
        for seg, pid, s, e in self.scan(views):
            text = next(t for k, t in views if k == seg)
            bits = self.masks[seg][pid] & rb
            if seg == SEG_V and pid in self.vi_toned:
                for ent in self.vi_toned[pid]:
                    if _marks_agree(w[s:e], ent.toned):  # type: ignore[arg-type]
                        bits |= ent.bit
            if not bits:
                continue
            if seg in _WORD_SEGS:
                ts = text.count(" ", 0, s + 1) - 1
                te = text.count(" ", 0, e - 1)
                ns_, ne_ = cum[ts], cum[max(te, ts + 1)]
            elif seg == SEG_N:
                ns_, ne_ = s, e
            else:  # SEG_ND
                if cum_nd is None:
                    cum_nd = [0]
                    for t in toks:
                        cum_nd.append(cum_nd[-1] + (1 if t.isdecimal() else len(t)))
                ns_ = _nd_to_n(s, cum_nd, cum, toks, start=True)
                ne_ = _nd_to_n(e, cum_nd, cum, toks, start=False)
            out.append((seg, pid, s, e, bits, ns_, ne_))
        return out

    def _masked(self, toks: list[str], views: list[tuple[int, str]]) -> int:
        hits = self.hits(toks, views)
        spans = [(h[5], h[6]) for h in hits if h[4] & self.spanx]
        excl = self.excl_mask
        mask = 0
        for h in hits:
            bits = h[4]
            mask |= bits & excl
            a, b = h[5], h[6]
            if not any(a < d and c < b for c, d in spans):
                mask |= bits & ~excl
        return mask & self.keep_mask

    def decide(self, mask: int) -> Detection:
        memo = self._memo
        d = memo.get(mask)
        if d is None:
            d = self._decide(mask)
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            memo[mask] = d
        return d

    def fired(self, mask: int) -> list[Rule]:
        out: list[Rule] = []
        direct = mask & self.direct_mask
        while direct:
            low = direct & -direct
            out.append(self.rules_by_bit[low.bit_length() - 1])
            direct ^= low
        for r, groups in self.combos:
            for g in groups:
                if not mask & g:
                    break
            else:
                out.append(r)
        return out

    def _decide(self, mask: int) -> Detection:
        if mask & self.queryx:
            return NOT_GBV
        fired = self.fired(mask)
        if not fired:
            return NOT_GBV
        return Detection(True, fired[0].category, tuple(r.id for r in fired))


def _nd_to_n(off: int, cum_nd: list[int], cum: list[int], toks: list[str], start: bool) -> int:
    k = bisect.bisect_right(cum_nd, off) - 1 if start else bisect.bisect_left(cum_nd, off) - 1
    k = max(0, min(k, len(toks) - 1))
    if toks[k].isdecimal():
        return cum[k] if start else cum[k + 1]
    return cum[k] + (off - cum_nd[k])


def _marks_agree(query: str, term: str) -> bool:
    """Each query letter carries no mark the term letter lacks (unless the term letter is bare)."""
    if query == term:
        return True
    for a, b in zip(query, term):
        if a != b:
            ma = mark_set(a)
            if ma:
                mb = mark_set(b)
                if mb and not ma <= mb:
                    return False
    return True


# --- detector -----------------------------------------------------------------------------


class Detector:
    """Multilingual GBV query detector (thread-safe for reads; caches are best effort)."""

    def __init__(self, lexicons: LexiconSet, country_languages: Mapping[str, Sequence[str]]) -> None:
        self.lexicons = lexicons
        self.country_languages: dict[str, tuple[str, ...]] = {
            str(k).upper(): tuple(v) for k, v in country_languages.items()
        }
        h = hashlib.sha256()
        h.update(f"engine={ENGINE_VERSION}\0lexicons={lexicons.content_hash}\0".encode())
        for cc in sorted(self.country_languages):
            h.update(f"{cc}={','.join(self.country_languages[cc])}\0".encode())
        self.version = "det-" + h.hexdigest()[:12]
        self._by_langs: dict[tuple[str, ...], _Compiled] = {}
        self._by_key: dict[tuple[str, str | None], _Compiled] = {}

    def languages_for(self, country: str, locale: str | None = None) -> tuple[str, ...]:
        return active_languages(self.lexicons.lexicons, self.country_languages, country, locale)

    def _compiled(self, country: str, locale: str | None) -> _Compiled:
        key = (country, locale)
        c = self._by_key.get(key)
        if c is None:
            langs = self.languages_for(country, locale)
            c = self._by_langs.get(langs)
            if c is None:
                if len(self._by_langs) >= _CACHE_MAX:
                    self._by_langs.clear()
                c = _Compiled(self.lexicons, langs)
                self._by_langs[langs] = c
            if len(self._by_key) >= _CACHE_MAX * 4:
                self._by_key.clear()
            self._by_key[key] = c
        return c

    def warm(self) -> None:
        """Compile the automata of every configured country up front."""
        for cc in self.country_languages:
            self._compiled(cc, None)

    def detect(self, query: str, country: str, locale: str | None = None) -> Detection:
        c = self._by_key.get((country, locale)) or self._compiled(country, locale)
        return c.detect(query)

    def explain(self, query: str, country: str, locale: str | None = None) -> dict[str, Any]:
        """Everything that went into the decision, as plain JSON-able data."""
        c = self._compiled(country, locale)
        toks = c.tokens(query) if c.ac is not None else tokenize(query)
        det = c.detect(query)
        out: dict[str, Any] = {
            "query": query,
            "country": country,
            "locale": locale,
            "languages": list(c.langs),
            "version": self.version,
            "tokens": toks,
            "views": {},
            "rules": [],
            "concepts": {},
            "groups": {},
            "exclusions": [],
            "masked": [],
            "decision": {"is_gbv": det.is_gbv, "category": det.category, "rule_ids": list(det.rule_ids)},
        }
        if not toks or c.ac is None:
            return out
        views = c.views(toks)
        for seg, text in views:
            out["views"][SEG_NAMES[seg]] = text.strip() if seg in _WORD_SEGS else text
        hits = c.hits(toks, views)
        spans = [(h[5], h[6]) for h in hits if h[4] & c.spanx]
        excl_terms: dict[int, list[str]] = {}
        sig_terms: dict[int, list[str]] = {}
        masked: list[dict[str, Any]] = []
        mask = 0
        for seg, pid, s, e, bits, a, b in hits:
            overl = any(a < d and cc_ < b for cc_, d in spans)
            for ent in c.entries[pid]:
                if not ent.bit & bits or seg not in ent.segs or ent.signal < 0:
                    continue
                if ent.toned is not None and seg == SEG_V and not _marks_agree(views[0][1][s:e], ent.toned):
                    continue
                if ent.bit & c.excl_mask:
                    excl_terms.setdefault(ent.bit, []).append(ent.raw)
                    mask |= ent.bit
                elif overl:
                    kind, name = c.signal_names[ent.signal]
                    masked.append({"signal": f"{kind}:{name}", "term": ent.raw, "view": SEG_NAMES[seg]})
                else:
                    sig_terms.setdefault(ent.bit, []).append(ent.raw)
                    mask |= ent.bit
        mask &= c.keep_mask
        for bit, terms in sig_terms.items():
            kind, name = c.signal_names[bit.bit_length() - 1]
            if kind == "concept":
                out["concepts"][name] = sorted(set(terms))
            elif kind == "group":
                out["groups"][name] = sorted(set(terms))
        for bit, terms in excl_terms.items():
            x = c.exclusions[bit]
            out["exclusions"].append({"id": x.id, "scope": x.scope, "matched": sorted(set(terms)), "why": x.why})
        out["masked"] = masked
        for r in c.fired(mask):
            if not r.is_combination:
                bit = 1 << c.rules_by_bit.index(r)
                matched: Any = sorted(set(sig_terms.get(bit, [])))
            else:
                matched = []
                groups = next(g for rr, g in c.combos if rr is r)
                for g in groups:
                    terms = []
                    for bit, ts in sig_terms.items():
                        if bit & g:
                            terms.extend(ts)
                    matched.append(sorted(set(terms)))
            out["rules"].append(
                {
                    "id": r.id,
                    "category": r.category,
                    "kind": "combination" if r.is_combination else "terms",
                    "matched": matched,
                    "why": r.why,
                }
            )
        vetoed = [x["id"] for x in out["exclusions"] if x["scope"] == "query"]
        out["decision"]["vetoed_by"] = vetoed
        return out


# --- configuration -------------------------------------------------------------------------


def default_config_dir() -> Path:
    """$GBV_CONFIG_DIR, else <repo>/config next to the worker package."""
    import os

    env = os.environ.get("GBV_CONFIG_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "config"


def load_country_languages(countries_dir: Path | str) -> dict[str, tuple[str, ...]]:
    """Read the `country` and `languages` keys of every countries/*.yaml (others ignored)."""
    d = Path(countries_dir)
    out: dict[str, tuple[str, ...]] = {}
    errors: list[ConfigError] = []
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.yaml")):
        try:
            obj = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            errors.append(ConfigError(str(p), "(file)", f"invalid YAML: {e}"))
            continue
        if not isinstance(obj, dict):
            errors.append(ConfigError(str(p), "(file)", "must be a mapping"))
            continue
        cc = obj.get("country")
        langs = obj.get("languages")
        if not isinstance(cc, str) or not cc.strip():
            errors.append(ConfigError(str(p), "country", f"must be a country code, got {cc!r}"))
            continue
        if not isinstance(langs, list) or not all(isinstance(x, str) and x for x in langs):
            errors.append(ConfigError(str(p), "languages", f"must be a list of language codes, got {langs!r}"))
            continue
        out[cc.strip().upper()] = tuple(langs)
    if errors:
        raise ConfigErrors(errors)
    return out


def load_detector(config_dir: Path | str | None = None, *, skip_invalid: bool = False) -> Detector:
    """Detector from config_dir/lexicons/ and config_dir/countries/*.yaml.

    ``skip_invalid`` is for developer tools only (see ``load_lexicons``).
    """
    d = Path(config_dir) if config_dir is not None else default_config_dir()
    lex = load_lexicons(d / "lexicons", skip_invalid=skip_invalid)
    return Detector(lex, load_country_languages(d / "countries"))
