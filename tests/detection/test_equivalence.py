"""The optimised detect path agrees with the plain reference path, on the real config.

``Detector.detect`` takes shortcuts: fast paths for ASCII words, Thai/Korean/Chinese
words, Vietnamese words (scanned on the toneless view only) and ASCII words with
numbers, where a character check replaces the per-token normalisation; one automaton
per kind of view, whose scans return the OR of the hits' signal masks; a memo from
signal mask to outcome. ``explain`` computes the rules from every hit of the full
ahocorasick_rs automaton, view by view, with span masking, so it is an independent
reference: for every dev and benign query (and variants with punctuation, digits,
hashtags, case, repeats), under every country and a few locales, both must agree. Also
checked without stored decisions: the fast paths against the general path, the
character classes the fast paths rely on, cold vs warm caches, query order, case and
whitespace, locale "en" (always active).

The scans run in C (worker/detection/_acscan.c) when it is built, else in Python over
ahocorasick_rs (``engine._PyAutomaton``): every detector test here runs with both, and
the C scans are checked against the Python ones and ahocorasick_rs directly.
"""

from __future__ import annotations

import json
import random
import shutil
import sysconfig
import unicodedata
from functools import lru_cache
from pathlib import Path

import ahocorasick_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.detection import NOT_GBV, Detection, Detector, load_detector
from worker.detection import engine
from worker.detection import normalize as nz
from worker.detection.engine import SEG_D, SEG_N, SEG_S, SEG_V, SEG_W, SEG_WV

_acscan = engine._acscan
needs_native = pytest.mark.skipif(_acscan is None, reason="the C extension worker.detection._acscan is not built")

DATA = Path(__file__).resolve().parents[1] / "data"
LANG_COUNTRY = {"id": "ID", "ms": "MY", "tl": "PH", "th": "TH", "en": "SG", "ko": "KR", "vi": "VN", "zh": "SG"}


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []
    for f in [DATA / "gbv-dev.jsonl"]:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                o = json.loads(line)
                rows.append((o["q"], o["country"]))
    for f in sorted((DATA / "benign").glob("*.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append((line.strip(), LANG_COUNTRY.get(f.stem, "SG")))
    return tuple(rows)


@pytest.fixture(scope="module", params=["native", "python"])
def native(request: pytest.FixtureRequest) -> bool:
    """Both scan backends: the C extension and the Python fallback."""
    if request.param == "native" and _acscan is None:
        pytest.skip("the C extension worker.detection._acscan is not built")
    return request.param == "native"


@pytest.fixture(scope="module")
def det(native: bool) -> Detector:
    d = load_detector(native=native)
    assert d.native is native
    return d


@pytest.fixture(scope="module")
def countries(det: Detector) -> list[str]:
    return sorted(det.country_languages)


def reference(det: Detector, q: str, country: str, locale: str | None = None) -> Detection:
    """The decision rebuilt from explain's per-hit rules (no fast path, no memo)."""
    exp = det.explain(q, country, locale)
    if exp["decision"]["vetoed_by"] or not exp["rules"]:
        return NOT_GBV
    rules = exp["rules"]
    return Detection(True, rules[0]["category"], tuple(r["id"] for r in rules))


def test_data_present() -> None:
    assert len(_rows()) > 1000


def test_detect_agrees_with_reference_home_country(det: Detector) -> None:
    bad = [(q, cc) for q, cc in _rows() if det.detect(q, cc) != reference(det, q, cc)]
    assert not bad, bad[:10]


@pytest.mark.parametrize("locale", [None, "en", "vi-VN", "ko", "th"])
def test_detect_agrees_with_reference_every_country(det: Detector, countries: list[str], locale: str | None) -> None:
    qs = sorted({q for q, _ in _rows()})
    if locale is not None:  # the slower reference: a sample is enough for the extra locales
        qs = qs[:: 4 if locale == "en" else 7]
    bad = []
    for cc in countries:
        for q in qs:
            d = det.detect(q, cc, locale)
            if d != reference(det, q, cc, locale):
                bad.append((q, cc, locale, d))
    assert not bad, bad[:10]


def test_locale_en_is_always_active(det: Detector, countries: list[str]) -> None:
    for cc in countries:
        assert "en" in det.languages_for(cc)
        for q, _ in _rows()[::3]:
            assert det.detect(q, cc, "en") == det.detect(q, cc), (q, cc)
            assert det.detect(q, cc, "EN-us") == det.detect(q, cc), (q, cc)


def test_cold_and_warm_detectors_agree(det: Detector) -> None:
    rows = list(_rows())
    warm = [det.detect(q, cc) for q, cc in rows]
    random.Random(7).shuffle(idx := list(range(len(rows))))
    cold = load_detector(native=det.native)  # fresh automata, empty per-token caches and memo, other order
    for i in idx:
        q, cc = rows[i]
        assert cold.detect(q, cc) == warm[i], (q, cc)
    assert [det.detect(q, cc) for q, cc in rows] == warm  # repeated calls are stable


def test_case_and_whitespace_do_not_matter_for_ascii(det: Detector) -> None:
    for q, cc in _rows():
        if not q.isascii():
            continue
        d = det.detect(q, cc)
        if "#" in q and q != q.lower():
            # A CamelCase hashtag's case marks its words (#stopKDRT -> stop kdrt), so upper
            # case may fire other rules; whether it is GBV must not change.
            assert det.detect(q.upper(), cc).is_gbv == d.is_gbv, q
        else:
            assert det.detect(q.upper(), cc) == d, q
        assert det.detect(f"  {q} ", cc) == d, q
        assert det.detect(q.replace(" ", "  \t"), cc) == d, q


def test_whitespace_does_not_matter(det: Detector) -> None:
    for q, cc in _rows():
        d = det.detect(q, cc)
        assert det.detect(f"\t{q}  ", cc) == d, q
        assert det.detect(q.replace(" ", "   "), cc) == d, q


def test_unknown_country_and_empty_queries(det: Detector) -> None:
    for q in ["", " ", "   ", "!!!", "#", "..", "\u200b"]:
        for cc in ["ID", "VN", "TH", "KR", "XX"]:
            assert det.detect(q, cc) == NOT_GBV
    en_only = det.languages_for("XX")
    assert en_only == ("en",)
    for q, cc in _rows()[::5]:
        assert det.detect(q, "XX") == reference(det, q, "XX")


def test_results_are_shared_detection_values(det: Detector) -> None:
    """Decisions are plain immutable values (the memo may share them between queries)."""
    d = det.detect("my husband hits me", "SG")
    assert isinstance(d, Detection) and d.is_gbv
    with pytest.raises(AttributeError):
        d.is_gbv = False  # type: ignore[misc]


def test_variants_agree_with_reference(det: Detector) -> None:
    """Punctuation, digits, hashtags, case, spacing, repeats and leetspeak around real
    queries take the other paths (prepare, several views, repeat collapsing)."""
    bad = []
    for q, cc in _rows()[::4]:
        hashtag = "#" + q.replace(" ", "")
        for v in (q + "?", q.upper(), q + " 2", "2 " + q, hashtag, q + "!! aaa", q.replace("a", "4", 1)):
            if det.detect(v, cc) != reference(det, v, cc):
                bad.append((v, cc))
    assert not bad, bad[:10]


def test_fast_paths_agree_with_general_path(det: Detector, countries: list[str]) -> None:
    """detect's shortcuts vs prepare + all views through the general path (same engine)."""
    bad = []
    for cc in countries:
        c = det._compiled(cc, None)
        for q, _ in _rows()[::2]:
            w, flags, parts = nz.prepare(q)
            general = c._detect_views(w, c._views(w, flags, parts)) if len(w) >= 3 else NOT_GBV
            if c.detect(q) != general:
                bad.append((q, cc))
    assert not bad, bad[:10]


def test_toneless_scan_agrees_with_w_and_v_scan(det: Detector) -> None:
    """Vietnamese with marks: scanning V alone (W read off it) == scanning W and V."""
    c = det._compiled("VN", None)
    queries = [q for q, _ in _rows() if not q.isascii()]
    queries += ["chồng đánh fiancé", "fiancée tôi bị đánh", "vợ đẹppp"]
    n = 0
    for q in queries:
        s = nz.unicodedata.normalize("NFKC", q).casefold()
        if not nz.latin_words_only(s):
            continue
        w = " " + " ".join(s.split()) + " "
        if w.isascii():
            continue
        v = nz.toneless_text(w)
        assert v == nz.strip_marks(w) and len(v) == len(w)
        assert c._detect_toneless(w) == c._detect_vi(w, v), q
        assert c._detect_vi(w, v) == c._detect_views(w, [(SEG_W, w), (SEG_V, v)]), q
        n += 1
    assert n > 100


def _fragment_is_unchanged(text: str) -> bool:
    """Normalisation (``_clean``, character-local) leaves every character of text alone."""
    return nz._clean(text) == text


def test_thai_sara_am_replaced_before_nfkc() -> None:
    """detect replaces U+0E33 by its NFKC form before NFKC (a faster normalisation)."""
    assert unicodedata.normalize("NFKC", "\u0e33") == "\u0e4d\u0e32"
    rnd = random.Random(5)
    texts = [q for q, _ in _rows() if "\u0e33" in q]
    texts += ["".join(rnd.choice("\u0e33\u0e4d\u0e32\u0e48\u0e49\u0e38\u0e01 a") for _ in range(12)) for _ in range(2000)]
    assert len(texts) > 100
    for q in texts:
        assert unicodedata.normalize("NFKC", q.replace("\u0e33", "\u0e4d\u0e32")) == unicodedata.normalize("NFKC", q)


def test_ns_words_only_characters_are_left_alone() -> None:
    """The characters ns_words_only accepts: normalisation keeps them, flags are F_NS."""
    for lo, hi in nz._NS_RANGES:
        chars = "".join(chr(cp) for cp in range(lo, hi + 1) if nz.ns_words_only(chr(cp)))
        if not chars:
            continue
        assert nz.ns_words_only(chars)
        assert _fragment_is_unchanged(chars), hex(lo)
        assert chars.casefold() == chars
        assert nz._NS_RE.search(chars) and not nz._LATIN_RE.search(chars)
        assert not any(c.isdecimal() for c in chars)
        assert nz.strip_marks(chars) == chars
    assert nz.ns_words_only("สามีตีฉัน 가정 폭력 家暴")
    for ch in "5#.?a\u200b\u0e55\u0e3f":  # digits (also Thai ๕), punctuation, Latin, zero-width, ฿
        assert not nz.ns_words_only(ch), ch


def test_latin_words_only_characters_are_left_alone() -> None:
    """The characters latin_words_only accepts: normalisation keeps them, each
    non-ASCII one carries a mark, and toneless_text is strip_marks."""
    letters = "abcdefghijklmnopqrstuvwxyz" + nz._VI_LETTERS
    assert nz.latin_words_only(letters)
    assert _fragment_is_unchanged(letters)
    assert nz._fragment_flags(letters) == nz.F_LATIN | nz.F_MARKS
    for ch in nz._VI_LETTERS:
        assert nz.strip_marks(ch) != ch and nz.toneless_text(ch) == nz.strip_marks(ch), ch
    for ch in "5-.#'Đ\u0301":
        assert not nz.latin_words_only(ch), ch


# Fragments that exercise every path: ASCII letters only, punctuation, digits, leet,
# hashtags, repeats, Vietnamese marks, Thai/Korean/Chinese, affixes, exclusions.
FRAGMENTS = [
    "suami", "saya", "memukul", "dipukuli", "pukul", "5", "17.00", "kdrt", "#KDRT", "k.d.r.t", "bunuh", "diri",
    "rape", "r4pe", "grape", "raped", "my", "husband", "hit", "hits", "me", "bf", "beat", "chess", "help",
    "sinaktan", "ako", "asawa", "binugbog", "ng", "rogol", "dirogol", "keganasan", "rumah", "tangga",
    "chồng", "đánh", "giá", "chong", "danh", "hiếp", "hiệp", "dâm", "bạo", "lực", "gia", "đình", "bao", "luc",
    "가정폭력", "남친한테", "맞았어요", "몰래카메라", "1박2일", "สามี", "ซ้อม", "ดนตรี", "ตี5", "ตบ", "ฉัน",
    "家暴", "性侵", "!!", "pleaseee", "tolonggg", "trafficking", "traffic", "suicide", "violence",
    "sextortion", "s3x", "$ex", "abuse", "Women", "ÀBUSE", "fiancé", "\u200b", "-", "'s",
]


@settings(max_examples=500, deadline=None)
@given(
    words=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=7),
    seps=st.lists(st.sampled_from([" ", " ", " ", "", "  ", ".", "-"]), min_size=7, max_size=7),
    country=st.sampled_from(["ID", "MY", "PH", "TH", "SG", "KR", "VN", "XX"]),
    locale=st.sampled_from([None, None, "en", "vi", "ms-MY"]),
)
def test_random_queries_agree_with_reference(
    det: Detector, words: list[str], seps: list[str], country: str, locale: str | None
) -> None:
    q = "".join(w + s for w, s in zip(words, seps)).strip()
    assert det.detect(q, country, locale) == reference(det, q, country, locale)


@settings(max_examples=300, deadline=None)
@given(q=st.text(max_size=40), country=st.sampled_from(["ID", "VN", "TH", "KR", "SG"]))
def test_arbitrary_text_agrees_with_reference(det: Detector, q: str, country: str) -> None:
    assert det.detect(q, country) == reference(det, q, country)


# --- the two scan backends ------------------------------------------------------------


def test_native_extension_is_built_where_it_can_be() -> None:
    """`pip install -e .` builds _acscan.c (optional, so the install also works without
    a compiler): where a compiler and Python.h exist, it must have been built."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(cc) is None or not header.exists():
        pytest.skip("no C compiler or Python headers here: the Python scans are used")
    assert _acscan is not None, "worker/detection/_acscan.c is not built: run pip install -e ."
    assert load_detector().native


def test_native_and_python_detectors_agree() -> None:
    """Every query, variant, country and locale: the same decisions with both backends."""
    if _acscan is None:
        pytest.skip("the C extension worker.detection._acscan is not built")
    c_det, p_det = load_detector(native=True), load_detector(native=False)
    countries = sorted(c_det.country_languages) + ["XX"]
    bad = []
    for i, (q, _) in enumerate(_rows()):
        queries = [q] if i % 4 else [q, q.upper(), q + "!!", "#" + q.replace(" ", ""), q + " 12", q.replace(" ", "\t")]
        for v in queries:
            for cc in countries:
                for loc in (None, "vi", "th-TH"):  # (a locale adds its language)
                    if c_det.detect(v, cc, loc) != p_det.detect(v, cc, loc):
                        bad.append((v, cc, loc))
    assert not bad, bad[:10]


def _scan_texts() -> list[str]:
    """Queries, their views and random text over the characters the scans treat apart."""
    rnd = random.Random(3)
    out = []
    for q, _ in _rows()[::2]:
        w = nz.prepare(q)[0]
        s = unicodedata.normalize("NFKC", q).casefold()
        out += [q, q.upper(), s, w, w.replace(" ", ""), f"\t{s}  ", nz.strip_marks(w)]
    alphabet = "abdeiknrstu   \t\u3000\n#5.-éđĐạẠơ\u0301สามีตี가정폭력家暴\U00020000\U0001f600\u200b"
    out += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25))) for _ in range(3000)]
    return out


@needs_native
def test_c_scans_agree_with_python_scans() -> None:
    """find, mask, mask_words, mask_nospace and mask_toneless of the real automata and
    masks: C == Python (ahocorasick_rs), on queries, views and random text."""
    c_det, p_det = load_detector(native=True), load_detector(native=False)
    c_det.warm()
    p_det.warm()
    texts = _scan_texts()
    for kind in ("word", "ns"):
        ca, pa = c_det._table.kind_auto[kind], p_det._table.kind_auto[kind]
        assert isinstance(ca, _acscan.Automaton) and isinstance(pa, engine._PyAutomaton)
        for t in texts:
            assert ca.find(t) == pa.find(t), (kind, t)
    assert set(nz.TONELESS_FOLD) == set(map(ord, nz._VI_LETTERS))  # mask_toneless's character check
    for cc in sorted(c_det.country_languages):
        c, p = c_det._compiled(cc, None), p_det._compiled(cc, None)
        z = c.z_local
        assert z == p.z_local
        for t in texts[::2]:
            for seg in (SEG_WV, SEG_W, SEG_S, SEG_D):
                assert c.mask_w(t, z[seg]) == p.mask_w(t, z[seg]), (cc, seg, t)
            assert c.mask_n(t, z[SEG_N]) == p.mask_n(t, z[SEG_N]), (cc, t)
            assert c.mask_words(t, z[SEG_WV]) == p.mask_words(t, z[SEG_WV]), (cc, t)
            assert c.mask_nospace(t, z[SEG_N]) == p.mask_nospace(t, z[SEG_N]), (cc, t)
            got = c.mask_toneless(t, z[SEG_V], c.vi_toned_w, z[SEG_W])
            assert got == p.mask_toneless(t, z[SEG_V], p.vi_toned_w, z[SEG_W]), (cc, t)


_ALPHABET = "abcdefghij é가\U00020000"


@needs_native
@settings(max_examples=300, deadline=None)
@given(
    patterns=st.lists(st.text(alphabet=_ALPHABET, min_size=1, max_size=4), min_size=1, max_size=60, unique=True),
    texts=st.lists(st.text(alphabet=_ALPHABET + "xz\t", max_size=40), min_size=1, max_size=5),
)
def test_c_automaton_agrees_with_ahocorasick_rs(patterns: list[str], texts: list[str]) -> None:
    a = _acscan.Automaton(patterns)
    find = ahocorasick_rs.AhoCorasick(patterns).find_matches_as_indexes
    masks = [None if i % 4 == 0 else 1 << i for i in range(len(patterns))]

    def want(text: str) -> int:
        m = 0
        for pid, _s, _e in find(text, True):
            m |= masks[pid] or 0
        return m

    for t in texts:
        assert a.find(t) == find(t, True)
        assert a.mask(t, masks) == want(t)
        assert a.mask_nospace(t, masks) == want("".join(t.split()))


@needs_native
def test_c_automaton_dense_states_and_errors() -> None:
    letters = "abcdefghijklmnopqrstuvwxyz"
    patterns = [" " + c for c in letters] + [f"x{c}y" for c in letters] + [" ab", "b", "ab", " a b ", "\U00020000z"]
    a = _acscan.Automaton(patterns)
    find = ahocorasick_rs.AhoCorasick(patterns).find_matches_as_indexes
    for t in [" a b c ", "xay xzy xxy", " ab ab", "\U00020000z \U00020000", "", "  ", "é x\U00020000z"]:
        assert a.find(t) == find(t, True), t
    masks = [1 << i for i in range(len(patterns))]
    assert a.mask_words(" A  B\u00a0", masks) is None  # only ASCII letters and spaces
    assert a.mask_words("xAy  B ", masks) == a.mask(" xay b ", masks)
    with pytest.raises(ValueError):
        _acscan.Automaton([""])
    with pytest.raises(ValueError):
        _acscan.Automaton(["ab", "ab"])  # one id per pattern
    with pytest.raises(TypeError):
        _acscan.Automaton(["a", 1])
    with pytest.raises(ValueError):
        a.mask("a", [None])
    with pytest.raises(TypeError):
        a.mask(b"a", masks)
    with pytest.raises(ValueError):
        _acscan.Automaton(["a"], nospace_chars=[(5, 3)])
