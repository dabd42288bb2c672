from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.detection.normalize import (
    Stemmer,
    collapse_repeats,
    normalize,
    prepare,
    strip_marks,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Suami Saya", "suami saya"),
        ("ＫＤＲＴ", "kdrt"),  # fullwidth -> NFKC
        ("Straße", "strasse"),  # casefold
        ("hel\u200blo wo\u00adrld\ufeff", "hello world"),
        ("a\u200db \u2060c", "ab c"),
        ("pleaseee help", "please help"),
        ("tolonggg", "tolong"),
        ("sakiiiit", "sakit"),
        ("www xxx", "www xxx"),  # a run at the start of a token is kept
        ("sapa 129", "sapa 129"),
        ("call 999 or 1366", "call 999 or 1366"),  # digits never collapse
        ("pukul 5", "pukul 5"),
        ("pukul 5.30", "pukul 5 30"),
        ("r4pe", "rape"),
        ("s3x", "sex"),
        ("$ex", "sex"),
        ("@buse", "abuse"),
        ("R4P3D", "raped"),
        ("5pm 2nd 4g", "5pm 2nd 4g"),
        ("iphone15 covid19", "iphone15 covid19"),
        ("k.d.r.t", "kdrt"),
        ("k-d-r-t", "kdrt"),
        ("K.D.R.T.", "kdrt"),
        ("s_e_x", "sex"),
        ("r.4.p.e", "rape"),
        ("anti-kekerasan", "anti kekerasan"),
        ("husband's", "husband s"),
        ("i'm", "i m"),
        ("hi!!! there???", "hi there"),
        ("hi😀there", "hi there"),
        ("#KDRT", "kdrt"),
        ("#kdrt", "kdrt"),
        ("#StopKekerasanSeksual", "stop kekerasan seksual stopkekerasanseksual"),
        ("#StopKDRT sekarang", "stop kdrt stopkdrt sekarang"),
        ("bf한테", "bf 한테"),
        ("ตี5", "ตี 5"),
        ("가정 폭력", "가정 폭력"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_thai_and_korean_repeats() -> None:
    assert tokenize("มากกก") == ["มาก"]
    assert tokenize("ดีีีี") == ["ดี"]
    # jamo runs at the start of a token (ㅠㅠㅠ, ㅋㅋㅋ) and Hangul syllables are kept
    assert len(tokenize("ㅠㅠㅠ")[0]) == 3
    assert tokenize("하하하") == ["하하하"]
    assert tokenize("好好好 我好好好") == ["好好好", "我好好好"]


def test_vietnamese_nfd_equals_nfc() -> None:
    nfc = "bạo lực gia đình"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert normalize(nfd) == normalize(nfc) == nfc


def test_strip_marks() -> None:
    assert strip_marks("bạo lực gia đình") == "bao luc gia dinh"
    assert strip_marks("Đánh") == "Danh"
    assert len(strip_marks("chồng tôi đánh")) == len("chồng tôi đánh")
    assert strip_marks("ascii only") == "ascii only"
    assert strip_marks("mixed ไทย đ") == "mixed ไทย d"


def test_prepare_flags_and_parts() -> None:
    w, flags, parts = prepare("Hello, WORLD 5!")
    assert w == " hello world 5 "
    assert parts == ["hello,", "world", "5!"]
    assert flags & 4  # F_DIGITS
    assert prepare("!!!")[0].strip() == ""


def test_collapse_repeats() -> None:
    assert collapse_repeats(["helppp", "meee"]) == ["help", "me"]
    toks = ["fine"]
    assert collapse_repeats(toks) is toks


def test_tokenize_collapse_flag() -> None:
    assert tokenize("helppp", collapse=False) == ["helppp"]
    assert tokenize("helppp") == ["help"]


def test_indonesian_stemmer() -> None:
    s = Stemmer(
        ["memper", "diper", "di", "ter", "ke", "ber", "mem", "men", "meng", "meny", "me", "pem", "pe"],
        ["kan", "an", "i", "nya", "lah"],
        ["pukul", "tendang", "siksa", "ancam", "perkosa", "leceh", "kekerasan", "keras"],
    )
    assert s.stem("memukul") == "pukul"
    assert s.stem("menendang") == "tendang"
    assert s.stem("menyiksa") == "siksa"
    assert s.stem("mengancam") == "ancam"
    assert s.stem("dipukuli") == "pukul"
    assert s.stem("diperkosa") == "perkosa"
    assert s.stem("pemerkosaan") == "perkosa"
    assert s.stem("dilecehkan") == "leceh"
    assert s.stem("kekerasannya") == "kekerasan"  # least stripping wins over keras
    assert s.stem("kekerasan") == "kekerasan"  # a known word is kept
    assert s.stem("makan") == "makan"  # no known word reachable
    assert s.stem_tokens(["dipukuli", "saya"]) == ["pukul", "saya"]


def test_tagalog_stemmer() -> None:
    s = Stemmer(
        ["pinag", "nag", "mag", "pag", "na", "ma", "pa"],
        ["an", "han", "in", "hin"],
        ["saktan", "bugbog", "sampal", "abuso", "gahasa", "halay"],
        infixes=["um", "in"],
        reduplication=True,
    )
    assert s.stem("sinaktan") == "saktan"
    assert s.stem("binugbog") == "bugbog"
    assert s.stem("sinasaktan") == "saktan"
    assert s.stem("binubugbog") == "bugbog"
    assert s.stem("pinagsasampal") == "sampal"
    assert s.stem("sumampal") == "sampal"
    assert s.stem("inabuso") == "abuso"
    assert s.stem("ginahasa") == "gahasa"
    assert s.stem("hinahalay") == "halay"


@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=40))
def test_normalize_is_idempotent_and_single_spaced(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert "  " not in once
    assert once == once.strip()


@pytest.mark.parametrize("raw,words", [
    ("suami suka bentak2 aku", "suami suka bentak bentak aku"),   # Indonesian/Malay "word2" = word-word
    ("Dipukul2 terus", "dipukul dipukul terus"),
    ("ps2 murah", "ps2 murah"),                                   # short: a name, not reduplication
    ("u2 concert", "u2 concert"),
    ("jam 12 siang", "jam 12 siang"),
])
def test_reduplication_with_2(raw, words):
    assert prepare(raw)[0].split() == words.split()
