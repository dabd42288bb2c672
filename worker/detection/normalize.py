"""Query and term normalisation for GBV detection (pure functions, no I/O).

The same pipeline is applied to queries and to lexicon terms, so a lexicon author
writes the natural form of a term once.

Pipeline (``tokenize``):
1. ``#hashtags``: CamelCase hashtags are split *before* casefolding and the joined
   form is kept too (``#StopKekerasanSeksual`` -> ``stop kekerasan seksual
   stopkekerasanseksual``; ``#KDRT`` -> ``kdrt``).
2. Non-ASCII text only: NFKC, casefold, zero-width / format characters removed
   (U+200B-200F, U+202A-202E, U+2060-2064, U+FEFF, soft hyphen, CGJ). Pure ASCII
   text takes a fast path (``str.lower``; NFKC is the identity on ASCII).
3. Punctuation: single characters separated by punctuation are joined
   by ``. - _ * / | ~ + ·`` (``k.d.r.t``, ``k-d-r-t``, ``s.e.x`` -> ``kdrt``/``sex``);
   any other punctuation or symbol, apostrophes included, becomes a space (``anti-kekerasan`` -> ``anti kekerasan``, ``husband's`` ->
   ``husband s``, ``5.30`` -> ``5 30``).
4. Leetspeak, only in tokens mixing ASCII letters with digits or ``@ $``:
   0->o 1->i 3->e 4->a 5->s 7->t @->a $->s (``r4pe`` -> ``rape``, ``s3x`` -> ``sex``,
   ``$ex`` -> ``sex``). Pure numbers stay numbers (``pukul 5``, ``sapa 129``,
   ``1366``); so do a number with a short unit/ordinal suffix (``5pm``, ``2nd``,
   ``4g``) and a word followed by 2+ digits (``iphone15``, ``covid19``).
5. A space is inserted between Latin letters/digits and Thai, Hangul or Han
   characters (``bf한테`` -> ``bf 한테``, ``ตี5`` -> ``ตี 5``).
6. A run of 3+ identical characters (not digits) that does not start a token is
   collapsed to one: ``pleaseee`` -> ``please``, ``tolonggg`` -> ``tolong``,
   ``มากกก`` -> ``มาก``. Digits never collapse (``111``, ``999``) and a run at the
   start of a token is kept (``www``, ``xxx``, ``pppa``, ``ㅠㅠㅠ``).
7. Split on whitespace.

Views built from the tokens by the engine:
- words: ``" " + " ".join(tokens) + " "`` (Latin terms are matched padded with spaces,
  which gives whole-word matching);
- toneless (Vietnamese): precomposed Latin letters mapped to their base letter,
  ``đ`` -> ``d`` (length preserving, see ``strip_marks``);
- stems (Indonesian, Malay, Tagalog): each token replaced by a lexicon word reached by
  stripping affixes (``Stemmer``);
- numbers: tokens made only of digits replaced by ``#`` (for ``{num}``);
- nospace: tokens joined without spaces (Thai, Korean, Chinese terms).
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = [
    "NS_WORD_RANGES",
    "NUM_TOKEN",
    "TONELESS_FOLD",
    "Stemmer",
    "has_nospace_script",
    "latin_words_only",
    "mark_set",
    "normalize",
    "nospace",
    "ns_words_only",
    "strip_marks",
    "strip_tokens",
    "collapse_repeats",
    "prepare",
    "prepare_folded",
    "toneless_text",
    "toneless_view",
    "token_flags",
    "tokenize",
]

NUM_TOKEN = "#"  # what a digits-only token becomes in the numbers view
NUM_SENTINEL = "\ue000"  # private-use char standing for {num} while a term is normalised

# --- character tables -------------------------------------------------------------

_DROP_CHARS = (
    [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + ["\ufeff", "\u00ad", "\u034f", "\u180e"]
)
_DROP = {ord(c): None for c in _DROP_CHARS}

# Characters that are letters or marks of the scripts matched without spaces.
_NS_CLASS = (
    "\u0e00-\u0e7f"  # Thai
    "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff"  # Hangul
    "\u2e80-\u2fdf\u3005-\u3007\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"  # Han, kana
)
_NS_RE = re.compile(f"[{_NS_CLASS}]")
_LATIN_CLASS = "a-z0-9\u00c0-\u024f\u1e00-\u1eff"


# single characters separated by punctuation: k.d.r.t, k-d-r-t, s_e_x, r.4.p.e
# (Latin letters and digits only; Thai/Korean/Chinese ignore spaces anyway)
_ACRONYM = re.compile(
    "(?<![^\\W_])[a-z0-9\u00c0-\u024f\u1e00-\u1eff](?:[.\\-_*·/|~+][a-z0-9\u00c0-\u024f\u1e00-\u1eff])+(?![^\\W_])"
)
_ACRONYM_SEPS = {ord(c): None for c in ".-_*·/|~+"}

_LEET_TOKEN = re.compile(
    r"(?<![^\W_]|[@$])[a-z0-9@$]*(?:[a-z][0-9@$]|[0-9@$][a-z])[a-z0-9@$]*(?![^\W_]|[@$])"
)
_LEET_KEEP = re.compile(r"\d+[a-z]{1,3}|[a-z]+\d{2,}")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})

_REPEAT = re.compile("(?<=\\S)([a-z\u00df-\u024f\u1e00-\u1eff\u0e01-\u0e4e\u0300-\u036f])\\1\\1+")
_HASHTAG = re.compile(r"#(\w+)")


# Indonesian/Malay informal reduplication: "bentak2" is "bentak-bentak" (3+ letters, so
# "ps2" or "u2" stay as they are).
_REDUPLICATED = re.compile(r"[a-z]{3,}2")


def _leet(m: re.Match[str]) -> str:
    tok = m.group()
    if _REDUPLICATED.fullmatch(tok):
        word = tok[:-1]
        return word + " " + word
    if _LEET_KEEP.fullmatch(tok):
        return tok
    return tok.translate(_LEET)


def _split_camel(word: str) -> list[str]:
    parts: list[str] = []
    start = 0
    n = len(word)
    for i in range(1, n):
        c = word[i]
        if not c.isupper():
            continue
        prev = word[i - 1]
        if prev.islower() or prev.isdigit() or (prev.isupper() and i + 1 < n and word[i + 1].islower()):
            parts.append(word[start:i])
            start = i
    parts.append(word[start:])
    return parts


def _hashtag(m: re.Match[str]) -> str:
    word = m.group(1)
    parts = _split_camel(word)
    if len(parts) > 1:
        return " " + " ".join(parts) + " " + word + " "
    return " " + word + " "


_ASCII_LOWER_SPACE = b"abcdefghijklmnopqrstuvwxyz "
_ACRONYM_SEP_BYTES = b".-_*/|~+"
_ASCII_PUNCT_BYTES = bytes(
    (c if chr(c).isalnum() else 0x20) if c < 128 else c for c in range(256)
)
_MIXED = re.compile(r"[a-z][0-9@$]|[0-9@$][a-z]").search
# Non-word characters, except the marks of Thai and Vietnamese-style combining marks
# and the {num} sentinel: punctuation, symbols, emoji, zero-width/format characters.
_NONWORD = re.compile("[^\\w\\s\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0300-\u036f\ue000]|_").search
_NONWORD_SUB = re.compile("[^\\w\\s\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0300-\u036f\ue000]|_").sub
_ZERO_WIDTH = re.compile("[" + "".join(_DROP_CHARS) + "]").search
_LEET_CHARS = re.compile(r"[0-9@$]").search
_ASCII_ALNUM = re.compile(r"[a-z0-9]").search
_SCRIPT_BOUNDARY = re.compile(f"[{_LATIN_CLASS}](?=[{_NS_CLASS}])|[{_NS_CLASS}](?=[{_LATIN_CLASS}])")


def _space_after(m: re.Match[str]) -> str:
    return m.group() + " "


def _acronyms(s: str) -> str:
    return _ACRONYM.sub(lambda m: m.group().translate(_ACRONYM_SEPS), s)


def _clean_ascii(s: str, rest: bytes) -> str:
    """Lower-cased ASCII with punctuation or symbols (``rest``: its non-letter bytes)."""
    if rest.translate(None, _ACRONYM_SEP_BYTES) != rest:
        s = _acronyms(s)
    if _MIXED(s):
        s = _LEET_TOKEN.sub(_leet, s)
    return s.encode().translate(_ASCII_PUNCT_BYTES).decode()


def _clean(s: str) -> str:
    """Punctuation, leetspeak and script boundaries (casefolded input, any script)."""
    if s.isascii():
        rest = s.encode().translate(None, _ASCII_LOWER_SPACE)
        if not rest:
            return s
        return _clean_ascii(s, rest)
    if _ZERO_WIDTH(s):
        s = s.translate(_DROP)
    if _ASCII_ALNUM(s) and _NS_RE.search(s):
        s = _SCRIPT_BOUNDARY.sub(_space_after, s)
    if _NONWORD(s):
        if _ACRONYM.search(s):
            s = _acronyms(s)
        if _LEET_CHARS(s) and _MIXED(s):
            s = _LEET_TOKEN.sub(_leet, s)
        s = _NONWORD_SUB(" ", s)
    elif _LEET_CHARS(s) and _MIXED(s):
        s = _LEET_TOKEN.sub(_leet, s)
    return s


# Flags of a prepared query (see ``prepare``).
F_NS = 1  # Thai / Hangul / Han / kana characters
F_LATIN = 2  # a Latin letter or a digit
F_DIGITS = 4  # some token is made only of digits
F_MARKS = 8  # strip_marks changes the text (Vietnamese marks, đ)
F_CHANGED = 16  # normalisation changed a part (punctuation, leetspeak, ...): internal
_LATIN_RE = re.compile(f"[{_LATIN_CLASS}]")


class _Cache(dict):  # type: ignore[type-arg]
    """Bounded memo of a pure per-token function (raw token -> value)."""

    __slots__ = ("fn",)
    max_size = 100_000

    def __init__(self, fn) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.fn = fn

    def __missing__(self, key):  # type: ignore[no-untyped-def]
        v = self.fn(key)
        if len(self) >= self.max_size:
            self.clear()
        self[key] = v
        return v


def _words_fragment(raw: str) -> str:
    # _clean is applied until stable so that normalisation is idempotent (a rare
    # second round: "a0$à" -> "a0 à" -> "ao à"); results are cached per part.
    frag = " ".join(_clean(raw).split())
    for _ in range(3):
        again = " ".join(_clean(frag).split())
        if again == frag:
            break
        frag = again
    return frag


def _fragment_flags(raw: str) -> int:
    frag = _WORDS[raw]
    f = 0 if frag == raw else F_CHANGED
    for tok in frag.split():
        if tok.isdecimal():
            f |= F_DIGITS
    if frag.isascii():
        return f | (F_LATIN if frag else 0)
    if _NS_RE.search(frag):
        f |= F_NS
    if _LATIN_RE.search(frag):
        f |= F_LATIN
    if strip_marks(frag) != frag:
        f |= F_MARKS
    return f


_WORDS = _Cache(_words_fragment)  # raw (lower-cased/casefolded) token -> normalised words
_FLAGS = _Cache(_fragment_flags)  # raw token -> F_* flags of its words
_SINGLE = _Cache(lambda raw: (" " + _WORDS[raw] + " ", _FLAGS[raw] & ~F_CHANGED))  # raw token -> (words view, flags)
_TONELESS = _Cache(lambda raw: strip_marks(_WORDS[raw]))  # raw token -> toneless words
_or = operator.or_
_reduce = functools.reduce
_nfkc = unicodedata.normalize
_flags = _FLAGS.__getitem__
_words = _WORDS.__getitem__
_single = _SINGLE.__getitem__


def prepare(text: str) -> tuple[str, int, list[str]]:
    """Normalise ``text`` (steps 1-5 of the module docstring; no repeat collapsing).

    Returns ``(words, flags, parts)``: the words view ``" tok1 tok2 "`` (blank, shorter
    than 3 characters, when there are no tokens), the OR of the F_* flags and the raw whitespace-separated parts (after
    lower-casing/casefolding) for the per-part caches (``toneless_view``).
    """
    if "#" in text:
        text = _HASHTAG.sub(_hashtag, text)
    if text.isascii():
        s = text.lower()
        parts = s.split()
        if not s.encode().translate(None, _ASCII_LOWER_SPACE):
            return " " + " ".join(parts) + " ", F_LATIN, parts
        flags = _reduce(_or, map(_flags, parts), 0)
        if not flags & F_CHANGED:
            return " " + " ".join(parts) + " ", flags, parts
        words = " " + " ".join(map(_words, parts)) + " "
        if "  " in words:  # a part that was only punctuation
            words = " " + " ".join(words.split()) + " "
        return words, flags & ~F_CHANGED, parts
    return prepare_folded(_nfkc("NFKC", text).casefold())


def prepare_folded(s: str) -> tuple[str, int, list[str]]:
    """``prepare`` of non-ASCII text already NFKC-normalised and casefolded (hashtags done)."""
    parts = s.split()
    if len(parts) == 1:  # Thai and Chinese queries often have no spaces
        words, flags = _single(parts[0])
        return words, flags, parts
    flags = _reduce(_or, map(_flags, parts), 0)
    if not flags & F_CHANGED:
        return " " + " ".join(parts) + " ", flags, parts
    words = " " + " ".join(map(_words, parts)) + " "
    if "  " in words:  # a part that was only punctuation
        words = " " + " ".join(words.split()) + " "
    return words, flags & ~F_CHANGED, parts


def _ranges_of(ranges: Iterable[tuple[int, int]], keep) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """The code points of ``ranges`` that ``keep`` accepts, as (lo, hi) ranges (inclusive)."""
    out = []
    for lo, hi in ranges:
        start = None
        for cp in range(lo, hi + 2):
            if cp <= hi and keep(chr(cp)):
                if start is None:
                    start = cp
            elif start is not None:
                out.append((start, cp - 1))
                start = None
    return out


def _class_of(ranges: list[tuple[int, int]]) -> str:
    """A regex character class body (escaped) of (lo, hi) code point ranges."""
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" if hi > lo else f"\\U{lo:08x}" for lo, hi in ranges)


# Text whose tokens normalisation leaves unchanged, checked on the whole casefolded
# string with one regex (no per-token cache lookups); the engine's fast paths.
# - Thai/Korean/Chinese words only: letters and marks of those scripts (no decimal digits,
#   no punctuation or symbols, no zero-width characters): every token is its own words
#   fragment with flags F_NS. The class is casefold-stable, so it can be checked on the
#   NFKC text before casefolding.
_NS_RANGES = (
    (0x0E00, 0x0E7F), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
    (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3040, 0x30FF), (0x3100, 0x312F), (0x31A0, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F),
)  # = _NS_CLASS
_THAI_MARKS = frozenset("\u0e31" + "".join(map(chr, range(0x0E34, 0x0E3B))) + "".join(map(chr, range(0x0E47, 0x0E4F))))
# (lo, hi) ranges of those characters; the C scan checks them too (engine: mask_nospace)
NS_WORD_RANGES = _ranges_of(
    _NS_RANGES, lambda c: (c.isalnum() or c in _THAI_MARKS) and not c.isdecimal() and c.casefold() == c
)
ns_words_only = re.compile(
    "[" + _class_of(NS_WORD_RANGES) + "\\s]*"
).fullmatch  # (these characters and whitespace have no case: casefolding leaves the text alone)


def toneless_view(parts: list[str]) -> str:
    """``strip_marks`` of the words view of ``parts`` (cached per part)."""
    v = " " + " ".join(map(_TONELESS.__getitem__, parts)) + " "
    if "  " in v:
        v = " " + " ".join(v.split()) + " "
    return v


def tokenize(text: str, collapse: bool = True) -> list[str]:
    """Normalise ``text`` and split it into tokens (see the module docstring).

    ``collapse=False`` skips step 6 (repeated characters); the engine does that only
    when its automaton saw a run (see ``REPEAT_TRIGGERS``).
    """
    toks = prepare(text)[0].split()
    if collapse:
        return collapse_repeats(toks)
    return toks


def token_flags(tokens: list[str]) -> int:
    """OR of the F_* flags of normalised tokens (cached per token)."""
    return _reduce(_or, map(_FLAGS.__getitem__, tokens), 0) & ~F_CHANGED


def collapse_repeats(tokens: list[str]) -> list[str]:
    """Step 6 of ``tokenize`` on already tokenised text."""
    s = " ".join(tokens)
    if _REPEAT.search(s):
        return _REPEAT.sub(r"\1", s).split()
    return tokens


def _repeat_triggers() -> tuple[str, ...]:
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    for lo, hi in ((0x00DF, 0x0250), (0x1E00, 0x1F00), (0x0E01, 0x0E4F), (0x0300, 0x0370)):  # = _REPEAT
        for cp in range(lo, hi):
            ch = chr(cp)
            if ch.casefold() == ch and unicodedata.category(ch)[0] in "LM" and unicodedata.normalize("NFKC", ch) == ch:
                chars.append(ch)
    return tuple(c * 3 for c in chars)


# Three identical letters (Latin incl. Vietnamese, Thai): if one occurs in a view the
# engine re-tokenises with collapse=True. Han and Hangul repeats are never collapsed
# at the start of a token anyway and are left alone inside one.
REPEAT_TRIGGERS = _repeat_triggers()


def normalize(text: str) -> str:
    """The canonical normalised form: tokens joined by single spaces."""
    return " ".join(tokenize(text))


def nospace(tokens: Sequence[str]) -> str:
    return "".join(tokens)


def has_nospace_script(text: str) -> bool:
    """True when ``text`` contains Thai, Hangul or Han/kana characters."""
    return _NS_RE.search(text) is not None


# --- Vietnamese toneless view -------------------------------------------------------


def _build_mark_tables() -> tuple[dict[int, str], dict[str, frozenset[str]]]:
    strip: dict[int, str] = {}
    marks: dict[str, frozenset[str]] = {}
    ranges = [(0x00C0, 0x0250), (0x1E00, 0x1F00)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            ch = chr(cp)
            if ch in "đĐ":
                continue
            d = unicodedata.normalize("NFD", ch)
            base = d[0]
            if len(d) > 1 and base.isascii() and base.isalpha():
                strip[cp] = base
                marks[ch] = frozenset(d[1:])
    strip[ord("đ")] = "d"
    strip[ord("Đ")] = "D"
    marks["đ"] = frozenset({"\u0335"})  # treat the stroke as a mark
    marks["Đ"] = frozenset({"\u0335"})
    return strip, marks


_STRIP_MARKS, _MARKS = _build_mark_tables()
_EMPTY: frozenset[str] = frozenset()

# - Latin words with Vietnamese-style marks (``ns_words_only`` above): ASCII letters and
#   lower-case precomposed letters that strip_marks maps to a base letter (and đ). Tokens
#   are unchanged, with flags F_LATIN, plus F_MARKS when the text is not ASCII; the
#   toneless view is then exactly ``toneless_text``.
_VI_LETTERS = "".join(sorted(c for c in map(chr, _STRIP_MARKS) if c.isalpha() and c.casefold() == c))
latin_words_only = re.compile("[a-z" + _VI_LETTERS + "\\s]*").fullmatch


def toneless_text(text: str) -> str:
    """strip_marks of text made of ``latin_words_only`` characters (marks dropped by NFD)."""
    return unicodedata.normalize("NFD", text.replace("đ", "d")).encode("ascii", "ignore").decode()


# toneless_text character by character (code point -> code point), for the C scan that
# folds while it scans (engine: mask_toneless)
TONELESS_FOLD = {ord(c): ord(toneless_text(c)) for c in _VI_LETTERS}


def strip_marks(text: str) -> str:
    """Vietnamese-insensitive view: precomposed Latin letters -> base letter, đ -> d.

    Length preserving on NFC/NFKC text, so offsets are shared with the input.
    """
    if text.isascii():
        return text
    t = text.replace("đ", "d").replace("Đ", "D")
    a = unicodedata.normalize("NFD", t).encode("ascii", "ignore")
    if len(a) == len(text):  # only Latin letters with marks: fast and exact
        return a.decode("ascii")
    return text.translate(_STRIP_MARKS)


_STRIPPED = _Cache(strip_marks)


def strip_tokens(tokens: list[str]) -> list[str]:
    """``strip_marks`` of each token (cached per token)."""
    return list(map(_STRIPPED.__getitem__, tokens))


def mark_set(ch: str) -> frozenset[str]:
    """The combining marks carried by one precomposed Latin letter (empty if none)."""
    return _MARKS.get(ch, _EMPTY)


# --- affix stripping ----------------------------------------------------------------

_VOWELS = frozenset("aeiou")


class Stemmer:
    """Maps a token to a known lexicon word by stripping affixes, or returns it unchanged.

    Candidates (at most one prefix, then up to two suffixes, Tagalog-style infixes and
    reduplication of the first syllable) are generated generously and only a
    candidate that is a known word (a word of some lexicon term) is accepted, the one
    with the least stripped. Indonesian/Malay nasal assimilation is undone after a
    prefix ending in a nasal (mem+ukul -> pukul, men+endang -> tendang,
    meny+iksa -> siksa, meng+... -> k...). Results are cached per token.
    """

    def __init__(
        self,
        prefixes: Iterable[str],
        suffixes: Iterable[str],
        known: Iterable[str],
        infixes: Iterable[str] = (),
        reduplication: bool = False,
        min_stem: int = 3,
        cache_size: int = 200_000,
    ) -> None:
        self.prefixes = tuple(sorted({p for p in prefixes if p}, key=lambda p: (-len(p), p)))
        self.suffixes = tuple(sorted({s for s in suffixes if s}, key=lambda s: (-len(s), s)))
        self.infixes = tuple(sorted({i for i in infixes if i}, key=lambda i: (-len(i), i)))
        self.reduplication = reduplication
        self.known = frozenset(known)
        self.min_stem = min_stem
        self.cache = _Cache(self._stem)
        self.stem = self.cache.__getitem__

    def stem_tokens(self, tokens: list[str]) -> list[str]:
        return list(map(self.stem, tokens))

    def _stem(self, token: str) -> str:
        if token in self.known or len(token) <= self.min_stem or not token.isalpha():
            return token
        best = None
        best_cost = sys.maxsize
        for cost, cand in self.candidates(token):
            if cost < best_cost and cand in self.known:
                best, best_cost = cand, cost
        return token if best is None else best

    def candidates(self, token: str) -> list[tuple[int, str]]:
        """(characters stripped, candidate) pairs; may contain non-words."""
        m = self.min_stem
        bases: list[tuple[int, str]] = [(0, token)]
        for p in self.prefixes:
            if token.startswith(p) and len(token) - len(p) >= m:
                rest = token[len(p):]
                cost = len(p)
                bases.append((cost, rest))
                if rest[0] in _VOWELS:
                    if p.endswith("ny"):
                        bases.append((cost, "s" + rest))
                    elif p.endswith("ng"):
                        bases.append((cost, "k" + rest))
                    elif p.endswith("m"):
                        bases.append((cost, "p" + rest))
                    elif p.endswith("n"):
                        bases.append((cost, "t" + rest))
        if self.infixes:
            extra = []
            for cost, b in bases:
                for i in self.infixes:
                    li = len(i)
                    if len(b) - li < m:
                        continue
                    if b[0] not in _VOWELS and b[1 : 1 + li] == i:  # s-in-aktan
                        extra.append((cost + li, b[0] + b[1 + li :]))
                    elif b.startswith(i) and b[li] in _VOWELS:  # in-abuso
                        extra.append((cost + li, b[li:]))
            bases.extend(extra)
        out: list[tuple[int, str]] = []
        for cost, b in bases:
            out.append((cost, b))
            for s1 in self.suffixes:
                if b.endswith(s1) and len(b) - len(s1) >= m:
                    b1 = b[: -len(s1)]
                    out.append((cost + len(s1), b1))
                    for s2 in self.suffixes:
                        if b1.endswith(s2) and len(b1) - len(s2) >= m:
                            out.append((cost + len(s1) + len(s2), b1[: -len(s2)]))
        if self.reduplication:
            extra = []
            for cost, b in out:
                if len(b) >= m + 2 and b[1] in _VOWELS and b[:2] == b[2:4]:  # sa-saktan
                    extra.append((cost + 2, b[2:]))
                elif len(b) >= m + 1 and b[0] in _VOWELS and b[0] == b[1]:  # a-abuso
                    extra.append((cost + 1, b[1:]))
            out.extend(extra)
        return out
