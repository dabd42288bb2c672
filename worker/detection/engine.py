"""GBV query detection: Aho-Corasick matching of normalised query views.

Usage::

    det = load_detector(Path("config"))          # or Detector(load_lexicons(...), {...})
    det.detect("suami saya memukul saya", "ID")  # Detection(is_gbv=True, category=..., rule_ids=(...))
    det.explain("pukul 5 sore", "ID")            # dict: views, rules, exclusions, decision

No I/O happens on the detect path. The patterns of every lexicon are shared by all
countries: one automaton for the word views (W, S, V, D) and one for the nospace views
(N, ND), plus one with everything for explain and the rare positional paths. Each set
of active languages (country languages + en + locale language) gets its own
per-pattern signal masks and decision memo, compiled on first use and cached.

Speed (``python -m worker.detection.throughput``): ``detect`` first tries fast paths
for the common shapes of query (ASCII words; Thai/Korean/Chinese words; Vietnamese
words with marks, scanned on the toneless view only; ASCII words and numbers), where
a character check shows that normalisation leaves every token unchanged, so no
per-token cache is consulted; each path makes one scan and ends in a memo from signal
mask to outcome. Everything else takes the general path (``prepare`` + ``_views``).
The per-kind automata are C (worker/detection/_acscan.c, built by ``pip install``)
whose scans return the OR of the hits' masks directly, doing the fast paths'
character checks while scanning. Without the extension, ``_PyAutomaton`` does the
same over ahocorasick_rs: same decisions, as fast as before the C scans (about 1.7x
slower). tests/detection/test_equivalence.py checks every path, with both, against
``explain``, which rebuilds the decision hit by hit on the full ahocorasick_rs
automaton.

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
import functools
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick_rs
import yaml

try:  # the C scans (worker/detection/_acscan.c, built by `pip install`)
    from . import _acscan
except ImportError:  # not built: the same scans over ahocorasick_rs (same results, slower)
    _acscan = None

from worker.errors import ConfigError, ConfigErrors

from .lexicon import Lexicon, LexiconSet, ParsedTerm, Rule, load_lexicons
from .normalize import (
    _WORDS,
    F_DIGITS,
    F_LATIN,
    F_MARKS,
    F_NS,
    NS_WORD_RANGES,
    NUM_SENTINEL,
    NUM_TOKEN,
    REPEAT_TRIGGERS,
    TONELESS_FOLD,
    Stemmer,
    _Cache,
    collapse_repeats,
    latin_words_only,
    mark_set,
    ns_words_only,
    prepare,
    prepare_folded,
    strip_marks,
    toneless_view,
    token_flags,
    tokenize,
    toneless_text,
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
_LOWER_SPACE = b"abcdefghijklmnopqrstuvwxyz "
_MEMO_MAX = 100_000
_F_VI = F_LATIN | F_MARKS  # flags of a Vietnamese query with marks (no digits, no Thai/Korean/Chinese)
_CACHE_MAX = 256
_nfkc = unicodedata.normalize
# " " + a token made only of decimal digits, in a words view (\d is exactly
# str.isdecimal; tokens are separated by single spaces and padded)
_num_tokens = re.compile(r" \d+(?= )").sub
# ASCII letters -> "a", digits -> "0" (to find a letter next to a digit with `in`)
_LETTER_DIGIT = bytes(0x61 if 0x61 <= c <= 0x7A else 0x30 if 0x30 <= c <= 0x39 else c for c in range(256))


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


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a pattern comes from: key is ("rule", id) | ("concept", name) |
    ("group", rule id, index) | ("exclusion", id) | ("repeat",)."""

    key: tuple[Any, ...]
    lang: str
    segs: frozenset[int]
    raw: str
    toned: str | None


_ALL_SEGS = frozenset(range(7))
# the kinds of view and their automata (see _Table.kind_pids)
_KIND_SEGS = {
    "word": frozenset({SEG_W, SEG_WV, SEG_S, SEG_V, SEG_D}),
    "ns": frozenset({SEG_N, SEG_ND}),
}
_SEG_KIND = {seg: kind for kind, segs in _KIND_SEGS.items() for seg in segs}


class _PyAutomaton:
    """The scans of ``_acscan.Automaton`` over an ahocorasick_rs automaton: the fallback
    when the C extension is not built (tests run both)."""

    __slots__ = ("_find", "find", "nospace_only")

    def __init__(self, patterns: list[str], nospace_only: bool = False) -> None:
        self._find = ahocorasick_rs.AhoCorasick(patterns).find_matches_as_indexes
        self.find = functools.partial(self._find, overlapping=True)
        self.nospace_only = nospace_only

    def mask(self, text: str, masks: list[int | None]) -> int:
        mask = 0
        for pid, _s, _e in self._find(text, True):
            m = masks[pid]
            if m is not None:
                mask |= m
        return mask

    def mask_words(self, query: str, masks: list[int | None]) -> int | None:
        if not query.isascii():
            return None
        s = query.lower()
        if s.encode().translate(None, _LOWER_SPACE):
            return None
        return self.mask(f" {' '.join(s.split())} ", masks)

    def mask_nospace(self, text: str, masks: list[int | None]) -> int | None:
        if self.nospace_only and not ns_words_only(text):
            return None
        return self.mask("".join(text.split()), masks)

    def mask_toneless(
        self, text: str, masks_v: list[int | None], checks: list[Any], masks_w: list[int | None]
    ) -> int | None:
        if not latin_words_only(text):
            return None
        w = f" {' '.join(text.split())} "
        if w.isascii():
            return None
        v = toneless_text(w)
        mask = 0
        for pid, s, e in self._find(v, True):
            m = masks_v[pid]
            if m is not None:
                mask |= m
            chk = checks[pid]
            if chk is not None:
                mask |= chk[w[s:e]]
            m = masks_w[pid]
            if m is not None and w[s:e] == v[s:e]:
                mask |= m
        return mask


def _automaton(patterns: list[str], kind: str, native: bool) -> Any:
    """The automaton of a kind of view: ``find(text)`` (the hits of ahocorasick_rs'
    ``find_matches_as_indexes(text, True)``), ``mask(text, masks)`` (the OR of the
    masks of those hits) and the fast paths' scans (see _acscan.c): ``mask_words``,
    ``mask_toneless`` (word views), ``mask_nospace`` (nospace views, only for
    ``ns_words_only`` text)."""
    if native:
        if _acscan is None:
            raise RuntimeError("the C extension worker.detection._acscan is not built")
        if kind == "ns":
            return _acscan.Automaton(patterns, nospace_chars=sorted(NS_WORD_RANGES))
        return _acscan.Automaton(patterns, fold=TONELESS_FOLD)
    return _PyAutomaton(patterns, nospace_only=kind == "ns")


class _Table:
    """One automaton over the patterns of every lexicon (kept hot in cache); each
    language set only differs in its per-pattern signal masks."""

    def __init__(self, lexset: LexiconSet, native: bool = False) -> None:
        patterns: dict[str, list[_Source]] = {}

        def add(term: ParsedTerm, lang: str, key: tuple[Any, ...], affixes: bool) -> None:
            toks = term.tokens
            toned = None
            if term.kind == "nospace":
                if term.has_num:
                    pat = "".join(NUM_TOKEN if t == NUM_SENTINEL else t for t in toks)
                    segs = frozenset({SEG_ND})
                else:
                    pat = "".join(toks)
                    segs = frozenset({SEG_N})
            elif term.has_num:
                pat = strip_marks(" " + " ".join(NUM_TOKEN if t == NUM_SENTINEL else t for t in toks) + " ")
                segs = frozenset({SEG_D})
            else:
                pat = " " + " ".join(toks) + ("" if term.prefix else " ")
                if lang == "vi":
                    bare = strip_marks(pat)
                    toned = pat if bare != pat else None
                    pat = bare
                    segs = frozenset({SEG_V, SEG_WV})
                elif affixes:
                    segs = frozenset({SEG_W, SEG_WV, SEG_S})
                else:
                    segs = frozenset({SEG_W, SEG_WV})
            patterns.setdefault(pat, []).append(_Source(key, lang, segs, term.raw, toned))

        for lx in lexset.lexicons.values():
            lang = lx.language
            aff = lx.affixes is not None
            for r in lx.rules:
                if r.is_combination:
                    for gi, g in enumerate(r.all):
                        if not isinstance(g, str):
                            for t in g:
                                add(t, lang, ("group", r.id, gi), aff)
                else:
                    for t in r.terms:
                        add(t, lang, ("rule", r.id), aff)
            for cname, terms in lx.concepts.items():
                for t in terms:
                    add(t, lang, ("concept", cname), aff)
            for x in lx.exclusions:
                for t in x.terms:
                    add(t, lang, ("exclusion", x.id), aff)
        for trig in REPEAT_TRIGGERS:
            patterns.setdefault(trig, []).append(_Source(("repeat",), "", _ALL_SEGS, trig, None))
        self.patterns: list[str] = list(patterns)
        self.sources: list[tuple[_Source, ...]] = [tuple(patterns[p]) for p in self.patterns]
        # every pattern: explain and the rare positional paths scan all views at once
        self.ac = ahocorasick_rs.AhoCorasick(self.patterns)
        self.find = self.ac.find_matches_as_indexes
        # detect scans the word views (W, S, V, D) and the nospace ones (N, ND) each
        # with an automaton of the patterns that can count there (repeat triggers in
        # both): no hits of Thai/Korean/Chinese terms inside W, none of word terms in N.
        # kind -> global pattern ids (local id = index).
        self.kind_pids: dict[str, list[int]] = {kind: [] for kind in _KIND_SEGS}
        for pid, srcs in enumerate(self.sources):
            segs = frozenset().union(*(src.segs for src in srcs))
            for kind, ksegs in _KIND_SEGS.items():
                if segs & ksegs:
                    self.kind_pids[kind].append(pid)
        self.native = native
        self.kind_auto = {
            kind: _automaton([self.patterns[p] for p in pids], kind, native) for kind, pids in self.kind_pids.items()
        }


class _Compiled:
    """Per-pattern signal masks and decision table for one active language set."""

    def __init__(self, lexset: LexiconSet, langs: tuple[str, ...], table: _Table) -> None:
        self.langs = langs
        active = set(langs)
        lexicons: list[Lexicon] = [lexset.lexicons[lang] for lang in langs]
        # signals: direct rules first (bit order == priority), then the rest
        self.signal_names: list[tuple[str, str]] = []  # (kind, name)
        key_bit: dict[tuple[Any, ...], int] = {}

        def new_signal(kind: str, name: str, key: tuple[Any, ...]) -> int:
            bit = 1 << len(self.signal_names)
            self.signal_names.append((kind, name))
            key_bit[key] = bit
            return bit

        direct: list[Rule] = [r for lx in lexicons for r in lx.rules if not r.is_combination]
        self.rules_by_bit: list[Rule] = direct
        for r in direct:
            new_signal("rule", r.id, ("rule", r.id))
        self.direct_mask = (1 << len(direct)) - 1
        concept_bit: dict[str, int] = {}
        for name in lexset.vocabulary:
            concept_bit[name] = new_signal("concept", name, ("concept", name))
        self.concept_bit = concept_bit

        # combinations: language-file `all:` rules (lexicon order), then combinations.yaml
        self.combos: list[tuple[Rule, tuple[int, ...]]] = []
        for lx in lexicons:
            for r in lx.rules:
                if not r.is_combination:
                    continue
                gmasks = []
                for gi, g in enumerate(r.all):
                    if isinstance(g, str):
                        gmasks.append(concept_bit[g])
                    else:
                        gmasks.append(new_signal("group", f"{r.id}.all[{gi}]", ("group", r.id, gi)))
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
                bit = new_signal("exclusion", x.id, ("exclusion", x.id))
                self.exclusions[bit] = x
                if x.scope == "query":
                    self.queryx |= bit
                else:
                    self.spanx |= bit
        self.excl_mask = self.spanx | self.queryx
        self.keep_mask = ~self.spanx
        # a run of 3 identical letters: re-tokenise with repeats collapsed
        self.repeat_bit = new_signal("repeat", "repeat", ("repeat",))

        # per-pattern masks over the shared automaton
        n = len(table.patterns)
        self.masks: list[list[int]] = [[0] * n for _ in range(7)]
        self.entries: list[tuple[_Entry, ...]] = [()] * n
        self.vi_toned: dict[int, _ViCheck] = {}
        self.vi = "vi" in active
        self.has_ns = self.has_wnum = self.has_nnum = False
        affix_langs = [lx for lx in lexicons if lx.affixes is not None]
        affix_set = {lx.language for lx in affix_langs}
        known: set[str] = set()
        for pid, srcs in enumerate(table.sources):
            ents = []
            toned = []
            for src in srcs:
                if src.key[0] != "repeat" and src.lang not in active:
                    continue
                bit = key_bit[src.key]
                ent = _Entry(bit, src.segs, src.raw, src.lang, src.toned, bit.bit_length() - 1)
                ents.append(ent)
                for seg in src.segs:
                    if seg == SEG_V and src.toned is not None:
                        toned.append(ent)
                    else:
                        self.masks[seg][pid] |= bit
                if src.key[0] == "repeat":
                    continue
                if SEG_N in src.segs:
                    self.has_ns = True
                if SEG_ND in src.segs:
                    self.has_ns = self.has_nnum = True
                if SEG_D in src.segs:
                    self.has_wnum = True
                if SEG_S in src.segs and src.lang in affix_set:
                    pat = table.patterns[pid]
                    if pat.endswith(" "):
                        known.update(pat.split())
            if ents:
                self.entries[pid] = tuple(ents)
            if toned:
                self.vi_toned[pid] = _ViCheck(toned)

        # stemming over the affix languages
        self.stemmer: Stemmer | None = None
        if affix_langs:
            pre, suf, inf, red = [], [], [], False
            for lx in affix_langs:
                a = lx.affixes
                assert a is not None
                pre += a.prefixes
                suf += a.suffixes
                inf += a.infixes
                red = red or a.reduplication
            self.stemmer = Stemmer(pre, suf, known, infixes=inf, reduplication=red)

        self.special = self.repeat_bit | self.spanx
        # every signal bit but the exclusions and the repeat bit (a positive int: cheap &)
        self.sig_bits = ((1 << len(self.signal_names)) - 1) & ~self.excl_mask & ~self.repeat_bit
        # masks of the per-kind automata used by detect: segment -> local pid -> bits
        self.local: list[list[int]] = [
            [self.masks[seg][pid] for pid in table.kind_pids[_SEG_KIND[seg]]] for seg in range(7)
        ]
        auto_w = table.kind_auto["word"]
        auto_n = table.kind_auto["ns"]
        self.find_w = auto_w.find  # text -> hits (pattern id, start, end)
        self.find_n = auto_n.find
        self.mask_w = auto_w.mask  # (text, masks) -> OR of the hits' masks
        self.mask_n = auto_n.mask
        self.mask_words = auto_w.mask_words
        self.mask_nospace = auto_n.mask_nospace
        self.mask_toneless = auto_w.mask_toneless
        # self.local with None for 0, as the scans take them
        self.z_local: list[list[int | None]] = [[b or None for b in arr] for arr in self.local]
        self.m_w = self.local[SEG_W]
        self.m_v = self.local[SEG_V]
        # toned Vietnamese checks by local (word automaton) pid, None where there is none
        self.vi_toned_w: list[_ViCheck | None] = [self.vi_toned.get(pid) for pid in table.kind_pids["word"]]
        self.stem = self.stemmer.stem if self.stemmer is not None else None
        self.sfrag = (
            _Cache(lambda raw, stem=self.stem: " ".join(map(stem, _WORDS[raw].split())))  # type: ignore[misc]
            if self.stem is not None
            else None
        )
        # raw part -> does stripping affixes change it?
        self._stem_changes = (
            _Cache(lambda raw, sfrag=self.sfrag: sfrag[raw] != _WORDS[raw]).__getitem__  # type: ignore[index]
            if self.sfrag is not None
            else None
        )
        # the parts seen not to change: one issuperset call instead of a cache lookup
        # per part (bounded like the caches)
        self._unchanged: set[str] = set()
        self.patterns = table.patterns
        self.ac = table.ac
        self.find = table.find
        self.trigger_pids = frozenset(
            pid for pid, es in enumerate(self.entries) if any(e.bit == self.repeat_bit for e in es)
        )
        self._memo: dict[int, Detection] = {}  # mask -> decide(mask)
        # mask -> final outcome, for the masks whose outcome depends on the mask alone
        # (no repeated letters; span exclusions only when nothing fires without them)
        self._outcomes: dict[int, Detection] = {0: NOT_GBV}
        # Vietnamese fast path: no affix language active (so no S view)
        self.vi_only = self.vi and self.sfrag is None
        # non-ASCII letters of the other languages' word terms (" fiancé "): W cannot be
        # read off the toneless view when the query has one (see _detect_toneless)
        w_pids = table.kind_pids["word"]
        self.w_marked = "".join(
            sorted(
                {
                    ch
                    for i, bits in enumerate(self.m_w)
                    if bits & ~self.repeat_bit
                    for ch in table.patterns[w_pids[i]]
                    if not ch.isascii()
                }
            )
        )
        # (a search for them)
        self.w_marked_search = re.compile(f"[{re.escape(self.w_marked)}]").search if self.w_marked else None
        self.detect = self._bind_detect()

    # -- views ---------------------------------------------------------------------

    def views(self, toks: list[str]) -> list[tuple[int, str]]:
        """(segment kind, text) pairs to match for normalised tokens."""
        return self._views(" " + " ".join(toks) + " ", token_flags(toks), toks)

    def _stem_view(self, parts: list[str]) -> str:
        sv = " " + " ".join(map(self.sfrag.__getitem__, parts)) + " "  # type: ignore[union-attr]
        if "  " in sv:
            sv = " " + " ".join(sv.split()) + " "
        return sv

    def _views(self, w: str, flags: int, parts: list[str]) -> list[tuple[int, str]]:
        """Views from a prepared query (see normalize.prepare); the first is W or N."""
        out: list[tuple[int, str]] = []
        ns = self.has_ns and bool(flags & F_NS)
        v = toneless_view(parts) if self.vi and flags & F_MARKS else None
        # W is pointless for a query without Latin letters or digits (pure Thai/Korean/Chinese)
        if not ns or flags & F_LATIN:
            out.append((SEG_WV if v is None else SEG_W, w))
        if ns:
            out.append((SEG_N, w.replace(" ", "")))
        if self.sfrag is not None and self._stems_change(parts):
            out.append((SEG_S, self._stem_view(parts)))
        if v is not None:
            out.append((SEG_V, v))
        if flags & F_DIGITS and (self.has_wnum or (self.has_nnum and ns)):
            d = _num_tokens(" " + NUM_TOKEN, w)  # digit-only tokens -> "#"
            if self.has_wnum:  # (strip_marks is the identity without F_MARKS)
                out.append((SEG_D, strip_marks(d) if flags & F_MARKS else d))
            if self.has_nnum and ns:
                out.append((SEG_ND, d.replace(" ", "")))
        return out

    # -- detection -------------------------------------------------------------------

    def scan(self, views: list[tuple[int, str]]) -> list[tuple[int, int, int, int]]:
        """Raw hits of the full automaton over all views: (segment kind, pattern id, start, end)."""
        found = self.find("\0".join([text for _, text in views]), True)
        if len(views) == 1:
            seg = views[0][0]
            return [(seg, pid, s, e) for pid, s, e in found]
        starts = []
        pos = 0
        for _, text in views:
            starts.append(pos)
            pos += len(text) + 1
        out = []
        for pid, s, e in found:
            i = bisect.bisect_right(starts, s) - 1
            off = starts[i]
            out.append((views[i][0], pid, s - off, e - off))
        return out

    def _stems_change(self, parts: list[str]) -> bool:
        """True when stripping affixes changes some part (per-part results are cached)."""
        unchanged = self._unchanged
        if unchanged.issuperset(parts):
            return False
        if len(unchanged) >= _Cache.max_size:
            unchanged.clear()
        changes = self._stem_changes
        out = False
        for p in parts:
            if changes(p):  # type: ignore[misc]
                out = True
            else:
                unchanged.add(p)
        return out

    def _bind_detect(self) -> Any:
        """``detect(query)``: the fast paths for the common shapes of query, cheapest
        first, as a closure over the data they touch (locals instead of attribute and
        global lookups, which are a noticeable share of a ~1 us path).

        Each path scans its views with the automaton of their kind and ends in
        ``outcomes`` (or ``_resolve``). They agree with the general path (``_views`` +
        ``_detect_views``) and with explain, which rebuilds the decision hit by hit on
        the full automaton: see tests/detection/test_equivalence.py.
        """
        find_w = self.find_w
        find_n = self.find_n
        mask_words = self.mask_words
        mask_nospace = self.mask_nospace
        mask_w = self.mask_w
        z_wv = self.z_local[SEG_WV]
        z_s = self.z_local[SEG_S]
        z_n = self.z_local[SEG_N]
        outcomes = self._outcomes  # (only ever cleared in place)
        stem_changes = self._stem_changes
        stems_change = self._stems_change
        unchanged = self._unchanged  # (only ever cleared in place)
        stem_view = self._stem_view
        has_ns = self.has_ns
        vi_only = self.vi_only
        resolve = self._resolve
        detect_views = self._detect_views
        detect_toneless = self._detect_toneless
        views_of = self._views
        lower_space = _LOWER_SPACE
        letter_digit = _LETTER_DIGIT
        nfkc = _nfkc

        def detect(query: str) -> Detection:
            if query.isascii():
                mask = mask_words(query, z_wv)
                if mask is not None:
                    # ASCII letters and spaces only (no punctuation, digits, hashtags):
                    # normalisation is lower-casing, the words view is the query itself
                    # with single spaces, scanned without building it
                    parts = None
                    if stem_changes is not None:
                        parts = query.lower().split()
                        # (the set check first: most queries' words are known not to change,
                        # and it saves the call)
                        if not unchanged.issuperset(parts) and stems_change(parts):  # + the stems view
                            sv = stem_view(parts)
                            mask |= mask_w(sv, z_s)
                            d = outcomes.get(mask)
                            if d is not None:
                                return d
                            w = f" {' '.join(parts)} "
                            return resolve(w, [(SEG_WV, w), (SEG_S, sv)], mask, None)
                    d = outcomes.get(mask)
                    if d is not None:
                        return d
                    w = f" {' '.join(query.lower().split() if parts is None else parts)} "
                    return resolve(w, [(SEG_WV, w)], mask, find_w(w))
                s = query.lower()
                b = s.encode()
                rest = b.translate(None, lower_space)
                if rest.isdigit() and b"a0" not in (b := b.translate(letter_digit)) and b"0a" not in b:
                    # ASCII letters, spaces and numbers standing alone ("harga iphone 15"):
                    # tokens are unchanged too (no leetspeak without a letter next to a digit)
                    parts = s.split()
                    w = f" {' '.join(parts)} "
                    return detect_views(w, views_of(w, F_LATIN | F_DIGITS, parts))
                w, flags, parts = prepare(query)
            else:
                # (Thai SARA AM replaced by its NFKC form first: same result, and NFKC's
                # quick check then passes, which saves a full normalisation)
                s = nfkc("NFKC", query.replace("\u0e33", "\u0e4d\u0e32") if "\u0e33" in query else query)
                # The scans' character checks tell that normalisation leaves every token
                # unchanged (no per-token cache lookups, whose misses dominate on a
                # mixed stream).
                if has_ns:
                    mask = mask_nospace(s, z_n)
                    if mask is not None:
                        # Thai/Korean/Chinese words only (ns_words_only; no case to fold):
                        # the N view is the query without spaces
                        d = outcomes.get(mask)
                        if d is not None:
                            return d
                        parts = s.split()
                        n = "".join(parts)
                        return resolve(f" {' '.join(parts)} ", [(SEG_N, n)], mask, find_n(n))
                if "#" in query:  # hashtags: CamelCase is split before casefolding
                    w, flags, parts = prepare(query)
                else:
                    s = s.casefold()
                    if vi_only:
                        d = detect_toneless(s)
                        if d is not None:
                            return d
                    w, flags, parts = prepare_folded(s)
            return self._detect_prepared(w, flags, parts)

        return detect

    def _detect_prepared(self, w: str, flags: int, parts: list[str]) -> Detection:
        """detect after ``prepare``: the N-only and Vietnamese fast paths, else the general one."""
        if flags == F_NS and self.has_ns:
            return self._detect_n(w.replace(" ", ""), w)
        if len(w) < 3:
            return NOT_GBV
        if flags == _F_VI and self.vi_only:
            return self._detect_vi(w, toneless_view(parts))
        return self._detect_views(w, self._views(w, flags, parts))

    def _detect_n(self, n: str, w: str) -> Detection:
        """Only Thai/Korean/Chinese words (no Latin, digits or marks): the N view only."""
        mask = self.mask_n(n, self.z_local[SEG_N])
        d = self._outcomes.get(mask)
        return d if d is not None else self._resolve(w, [(SEG_N, n)], mask, self.find_n(n))

    def _detect_vi(self, w: str, v: str) -> Detection:
        """Vietnamese with marks, no digits, no affix language: W (other languages on
        the toned text) then V (Vietnamese terms on the toneless text), one automaton call."""
        b1 = len(w) + 1
        hits = self.find_w(w + "\0" + v)
        if not hits:
            return NOT_GBV
        a0 = self.m_w
        a1 = self.m_v
        vi_toned = self.vi_toned_w
        mask = 0
        for pid, s, e in hits:
            if s < b1:
                mask |= a0[pid]
            else:
                mask |= a1[pid]
                chk = vi_toned[pid]
                if chk is not None:  # the marks the query carries must agree
                    mask |= chk[w[s - b1 : e - b1]]
        d = self._outcomes.get(mask)
        return d if d is not None else self._resolve(w, [(SEG_W, w), (SEG_V, v)], mask, hits)

    def _detect_toneless(self, s: str) -> Detection | None:
        """``_detect_vi`` for casefolded text ``s`` of ``latin_words_only`` characters with
        some Vietnamese mark, scanning only its toneless view V (ASCII, same length as
        the words view W, folded character by character while scanning; see
        ``mask_toneless``). None for any other text.

        The other languages' terms (W) are ASCII, except those with letters in
        ``w_marked``: such a term matches W at [s, e) exactly when it matches V there and
        W has no mark in between, so W need not be scanned.
        """
        if self.w_marked_search is not None and self.w_marked_search(s):
            if not latin_words_only(s):
                return None
            w = f" {' '.join(s.split())} "
            return self._detect_vi(w, toneless_text(w))
        z = self.z_local
        mask = self.mask_toneless(s, z[SEG_V], self.vi_toned_w, z[SEG_W])
        if mask is None:
            return None
        d = self._outcomes.get(mask)
        return d if d is not None else self._toneless_resolve(f" {' '.join(s.split())} ", mask)

    def _toneless_resolve(self, w: str, mask: int) -> Detection:
        """``_resolve`` after ``mask_toneless``: the hits of W + V joined by NUL (see _detect_vi)."""
        v = toneless_text(w)
        hits = self.find_w(v)
        a0 = self.m_w
        b1 = len(w) + 1
        found = [h for h in hits if a0[h[0]] and w[h[1] : h[2]] == v[h[1] : h[2]]]
        found += [(pid, s + b1, e + b1) for pid, s, e in hits]
        return self._resolve(w, [(SEG_W, w), (SEG_V, v)], mask, found)

    def _detect_views(self, w: str, views: list[tuple[int, str]]) -> Detection:
        """The general path: any views (see ``_views``), each scanned by the automaton of
        its kind (hits never span views, so the mask is the OR of the views' masks)."""
        z = self.z_local
        mask = 0
        for seg, text in views:
            if seg == SEG_V:
                mask |= self._v_mask(w, text)
            elif seg == SEG_N or seg == SEG_ND:
                mask |= self.mask_n(text, z[seg])
            else:
                mask |= self.mask_w(text, z[seg])
        d = self._outcomes.get(mask)
        if d is not None:
            return d
        found = None  # the positional path takes the hits of one view, or of W + V joined by NUL
        if len(views) == 1:
            seg, text = views[0]
            found = self.find_n(text) if seg == SEG_N or seg == SEG_ND else self.find_w(text)
        elif len(views) == 2 and views[1][0] == SEG_V:
            found = self.find_w(views[0][1] + "\0" + views[1][1])
        return self._resolve(w, views, mask, found)

    def _v_mask(self, w: str, v: str) -> int:
        """The mask of the toneless view ``v`` of the words view ``w`` (same offsets): a
        toned Vietnamese term counts where the marks the query carries agree with it."""
        a = self.m_v
        vi_toned = self.vi_toned_w
        mask = 0
        for pid, s, e in self.find_w(v):
            mask |= a[pid]
            chk = vi_toned[pid]
            if chk is not None:
                mask |= chk[w[s:e]]
        return mask

    def _resolve(
        self, w: str, views: list[tuple[int, str]], mask: int, found: list[tuple[int, int, int]] | None
    ) -> Detection:
        """A mask not in ``_outcomes``: decide it, or take the positional path.

        ``found``: the hits of the one per-kind automaton call over ``views`` (one view,
        or W + V), else None.
        """
        if mask & self.special:
            return self._finish(w, views, mask, found)
        d = self.decide(mask)
        self._remember(mask, d)
        return d

    def _remember(self, mask: int, d: Detection) -> None:
        outcomes = self._outcomes
        if len(outcomes) >= _MEMO_MAX:
            outcomes.clear()
        outcomes[mask] = d

    def _finish(
        self, w: str, views: list[tuple[int, str]], mask: int, found: list[tuple[int, int, int]] | None
    ) -> Detection:
        """Repeated letters and span exclusions (the rarer paths)."""
        toks = None
        pure = True  # the outcome depends on the mask only
        if mask & self.repeat_bit:
            pure = False
            toks = w.split()
            toks2 = collapse_repeats(toks)
            if toks2 != toks:
                toks = toks2
                views = self.views(toks)
                found = None
                mask = self._mask(views)
            mask &= ~self.repeat_bit
        if mask & self.spanx:
            # masking only removes signals: if nothing fires without it, nothing will
            d = self.decide(mask & self.keep_mask)
            if not d.is_gbv:
                if pure:
                    self._remember(mask, d)
                return d
            if found is not None:
                mask = self._masked_direct(views, found)
            else:
                mask = self._masked(toks if toks is not None else w.split(), views)
        return self.decide(mask)

    def _masked_direct(self, views: list[tuple[int, str]], found: list[tuple[int, int, int]]) -> int:
        """``_masked`` for views sharing one coordinate system, from the hits of their
        per-kind automaton call: one view, or W + V (strip_marks keeps lengths).

        Overlaps are compared there instead of in N coordinates: a word pattern starts
        with the space before its first token and covers whole tokens (with a trailing
        ``*``, at least the first letter of the last one), so two word hits share a token
        exactly when their character ranges without that leading space overlap.
        """
        seg0, t0 = views[0]
        a0 = self.local[seg0]
        b1 = len(t0) + 1
        a1 = self.m_v
        vi_toned = self.vi_toned_w
        lead = 0 if seg0 == SEG_N else 1
        excl = self.excl_mask
        spanx = self.spanx
        sig_bits = self.sig_bits
        spans = []
        sigs = []
        mask = 0
        for pid, s, e in found:
            if s < b1:
                bits = a0[pid]
            else:  # the V view (same offsets as W)
                s -= b1
                e -= b1
                bits = a1[pid]
                chk = vi_toned[pid]
                if chk is not None:
                    bits |= chk[t0[s:e]]
            if not bits:
                continue
            x = bits & excl
            if x:
                mask |= x
                if x & spanx:
                    spans.append((s + lead, e))
            sig = bits & sig_bits  # (the repeat bit is neither)
            if sig:
                sigs.append((s + lead, e, sig))
        for lo, hi, sig in sigs:
            for c, d in spans:
                if lo < d and c < hi:
                    break
            else:
                mask |= sig
        return mask & self.keep_mask

    def tokens(self, query: str) -> list[str]:
        """The tokens ``detect`` ends up matching (repeats collapsed when the automaton saw one)."""
        toks = tokenize(query, collapse=False)
        col = collapse_repeats(toks)
        if col != toks and any(h[1] in self.trigger_pids for h in self.scan(self.views(toks))):
            return col
        return toks

    def _mask(self, views: list[tuple[int, str]]) -> int:
        """OR of the signal bits of every hit in ``views`` (full automaton; Vietnamese marks checked)."""
        masks = self.masks
        found = self.find("\0".join([t for _, t in views]), True)
        mask = 0
        if len(views) == 1:
            arr = masks[views[0][0]]
            for pid, _s, _e in found:
                mask |= arr[pid]
            return mask
        w = views[0][1]
        vi_toned = self.vi_toned
        starts = []
        pos = 0
        for _, text in views:
            starts.append(pos)
            pos += len(text) + 1
        segs = [k for k, _ in views]
        for pid, s, e in found:
            i = bisect.bisect_right(starts, s) - 1
            seg = segs[i]
            mask |= masks[seg][pid]
            if seg == SEG_V and pid in vi_toned:
                off = starts[i]
                mask |= vi_toned[pid][w[s - off : e - off]]
        return mask

    def hits(self, toks: list[str], views: list[tuple[int, str]]) -> list[tuple[int, int, int, int, int, int, int]]:
        """Every hit with signal bits (full automaton): (segment, pattern id, start, end,
        accepted bits, n_start, n_end)."""
        if self.ac is None:
            return []
        found = self.find("\0".join([text for _, text in views]), True)
        w = views[0][1]
        rb = ~self.repeat_bit
        masks = self.masks
        vi_toned = self.vi_toned
        layout = []  # (end of the view in the joined text, its offset, segment, text)
        pos = 0
        for seg, text in views:
            layout.append((pos + len(text), pos, seg, text))
            pos += len(text) + 1
        cum: list[int] | None = None
        cum_nd: list[int] | None = None
        out = []
        for pid, s, e in found:
            for end, off, seg, text in layout:  # hits never span the NUL separators
                if s < end:
                    break
            s -= off
            e -= off
            bits = masks[seg][pid] & rb
            if seg == SEG_V and pid in vi_toned:
                bits |= vi_toned[pid][w[s:e]]
            if not bits:
                continue
            if cum is None:
                cum = [0, *itertools.accumulate(map(len, toks))]
            if seg == SEG_N:
                ns_, ne_ = s, e
            elif seg != SEG_ND:  # the word views: token indexes from the spaces before
                ts = text.count(" ", 0, s + 1) - 1
                te = text.count(" ", 0, e - 1)
                ns_, ne_ = cum[ts], cum[max(te, ts + 1)]
            else:
                if cum_nd is None:
                    cum_nd = [0]
                    for t in toks:
                        cum_nd.append(cum_nd[-1] + (1 if t.isdecimal() else len(t)))
                ns_ = _nd_to_n(s, cum_nd, cum, toks, start=True)
                ne_ = _nd_to_n(e, cum_nd, cum, toks, start=False)
            out.append((seg, pid, s, e, bits, ns_, ne_))
        return out

    def _masked(self, toks: list[str], views: list[tuple[int, str]]) -> int:
        """The mask without the signals a span exclusion overlaps (N coordinates)."""
        hits = self.hits(toks, views)
        spanx = self.spanx
        spans = [(h[5], h[6]) for h in hits if h[4] & spanx]
        excl = self.excl_mask
        mask = 0
        for h in hits:
            bits = h[4]
            mask |= bits & excl
            sig = bits & ~excl
            if sig:
                a, b = h[5], h[6]
                for c, d in spans:
                    if a < d and c < b:
                        break
                else:
                    mask |= sig
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


class _ViCheck(dict):  # type: ignore[type-arg]
    """query text (with its marks) -> bits of the toned Vietnamese entries it agrees with."""

    __slots__ = ("entries",)

    def __init__(self, entries: list[_Entry]) -> None:
        super().__init__()
        self.entries = tuple(entries)

    def __missing__(self, q: str) -> int:
        bits = 0
        for ent in self.entries:
            if _marks_agree(q, ent.toned):  # type: ignore[arg-type]
                bits |= ent.bit
        if len(self) < 256:
            self[q] = bits
        return bits


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

    def __init__(
        self, lexicons: LexiconSet, country_languages: Mapping[str, Sequence[str]], *, native: bool | None = None
    ) -> None:
        """``native``: scan with the C extension (default: when it is built); False
        gives the same decisions with ahocorasick_rs only."""
        self.native = _acscan is not None if native is None else native
        self.lexicons = lexicons
        self.country_languages: dict[str, tuple[str, ...]] = {
            str(k).upper(): tuple(v) for k, v in country_languages.items()
        }
        h = hashlib.sha256()
        h.update(f"engine={ENGINE_VERSION}\0lexicons={lexicons.content_hash}\0".encode())
        for cc in sorted(self.country_languages):
            h.update(f"{cc}={','.join(self.country_languages[cc])}\0".encode())
        self.version = "det-" + h.hexdigest()[:12]
        self._table: _Table | None = None
        self._by_langs: dict[tuple[str, ...], _Compiled] = {}
        self._by_key: dict[tuple[str, str | None], _Compiled] = {}
        self._by_country: dict[str, Any] = {}  # country -> bound _Compiled.detect

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
                if self._table is None:
                    self._table = _Table(self.lexicons, self.native)
                c = _Compiled(self.lexicons, langs, self._table)
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
        """Is ``query`` (searched in ``country``, optional BCP 47 ``locale``) about GBV?"""
        if locale is None:
            try:
                fn = self._by_country[country]
            except KeyError:
                fn = self._compiled(country, None).detect
                if len(self._by_country) >= _CACHE_MAX * 4:
                    self._by_country.clear()
                self._by_country[country] = fn
            return fn(query)
        c = self._by_key.get((country, locale)) or self._compiled(country, locale)
        return c.detect(query)

    def explain(self, query: str, country: str, locale: str | None = None) -> dict[str, Any]:
        """Everything that went into the decision, as plain JSON-able data."""
        c = self._compiled(country, locale)
        toks = c.tokens(query)
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
            "decision": {
                "is_gbv": det.is_gbv,
                "category": det.category,
                "rule_ids": list(det.rule_ids),
                "vetoed_by": [],
            },
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


def load_detector(
    config_dir: Path | str | None = None, *, skip_invalid: bool = False, native: bool | None = None
) -> Detector:
    """Detector from config_dir/lexicons/ and config_dir/countries/*.yaml.

    ``skip_invalid`` is for developer tools only (see ``load_lexicons``); ``native``:
    see ``Detector``.
    """
    d = Path(config_dir) if config_dir is not None else default_config_dir()
    lex = load_lexicons(d / "lexicons", skip_invalid=skip_invalid)
    return Detector(lex, load_country_languages(d / "countries"), native=native)
