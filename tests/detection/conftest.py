"""Small self-contained lexicons for the engine tests (independent of config/)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from worker.detection import Detector, load_lexicons

COMBINATIONS = """
concepts_vocabulary: [actor_spouse, actor_dating, actor_ex, actor_family, actor_other,
  harm_physical, harm_threat, harm_control, harm_sexual, harm_image, harm_stalk,
  harm_verbal, gbv_topic, gender_context, help, victim_self]
rules:
  - id: combo.spouse_family_harm
    category: domestic_violence
    all: [[actor_spouse, actor_family], [harm_physical, harm_threat, harm_control]]
    why: accounts of abuse by a spouse or relative
  - id: combo.dating_harm
    category: dating_violence
    all: [[actor_dating, actor_ex], [harm_physical, harm_threat, harm_control]]
    why: bf hit me
  - id: combo.topic_gender
    category: other_gbv
    all: [gbv_topic, gender_context]
    why: violence against women
"""

LEXICONS = {
    "en": """
language: en
name: English
script: latin
concepts:
  actor_spouse: [husband, wife]
  actor_dating: [bf, boyfriend]
  harm_physical: [hit, hits, beat, beats]
  gbv_topic: ["abus*", violence]
  gender_context: [women, woman]
  victim_self: [me, i, my]
  help: [help, hotline]
rules:
  - id: en.rape
    category: sexual_violence
    terms: [rape, raped, rapist]
    why: rape is unambiguous as a whole word
  - id: en.trafficking
    category: trafficking
    terms: [trafficking, sex trafficking]
    why: trafficking (not traffic)
  - id: en.report_abuse
    category: other_gbv
    all: [help, [abuse, violence]]
    why: help-seeking about abuse
exclusions:
  - id: en.x.self_harm
    scope: query
    terms: [suicide]
    why: self-harm has its own notice
""",
    "id": """
language: id
name: Indonesian
script: latin
affixes:
  prefixes: [memper, diper, di, ter, ke, ber, mem, men, meng, meny, me, pem, pen, peng, peny, pe]
  suffixes: [kan, an, i, nya, lah, ku, mu]
concepts:
  actor_spouse: [suami, istri]
  harm_physical: [pukul, tampar, tendang, siksa]
  gbv_topic: [kekerasan]
  gender_context: [perempuan]
  victim_self: [saya, aku]
rules:
  - id: id.kdrt
    category: domestic_violence
    terms: [kdrt, kekerasan dalam rumah tangga]
    why: KDRT is the everyday word for domestic violence
  - id: id.sexual
    category: sexual_violence
    terms: [perkosa, leceh, kekerasan seksual]
    why: rape and sexual harassment stems
exclusions:
  - id: id.x.pukul_jam
    terms: ["pukul {num}"]
    why: pukul 5 is five o'clock
  - id: id.x.bunuh_diri
    scope: query
    terms: [bunuh diri]
    why: self-harm has its own notice
""",
    "tl": """
language: tl
name: Tagalog
script: latin
affixes:
  prefixes: [pinag, nag, mag, pag, na, ma, pa]
  suffixes: [an, han, in, hin]
concepts:
  actor_spouse: [asawa]
  harm_physical: [saktan, bugbog, sampal]
  victim_self: [ako, ko]
rules:
  - id: tl.gahasa
    category: sexual_violence
    terms: [gahasa]
    why: rape
""",
    "vi": """
language: vi
name: Vietnamese
script: latin
concepts:
  actor_spouse: [chồng, vợ]
  harm_physical: [đánh]
rules:
  - id: vi.bao_luc_gia_dinh
    category: domestic_violence
    terms: [bạo lực gia đình]
    why: domestic violence
  - id: vi.hiep_dam
    category: sexual_violence
    terms: [hiếp dâm, hiếp]
    why: rape
exclusions:
  - id: vi.x.danh_gia
    terms: [đánh giá]
    why: đánh giá is a review
""",
    "ko": """
language: ko
name: Korean
script: hangul
concepts:
  actor_dating: [남친, 남자친구]
  harm_physical: [맞았, 때렸]
rules:
  - id: ko.dv
    category: domestic_violence
    terms: [가정폭력]
    why: domestic violence
  - id: ko.sexual
    category: sexual_violence
    terms: [성폭행]
    why: sexual assault
""",
    "th": """
language: th
name: Thai
script: thai
concepts:
  actor_spouse: [สามี, ผัว]
  harm_physical: [ซ้อม, ตบ, ตี]
rules:
  - id: th.dv
    category: domestic_violence
    terms: [ความรุนแรงในครอบครัว]
    why: domestic violence
exclusions:
  - id: th.x.practice
    terms: [ซ้อมดนตรี, ซ้อมบอล]
    why: ซ้อม also means practice
  - id: th.x.time
    terms: ["ตี{num}"]
    why: ตี5 is 5 a.m.
""",
}

COUNTRIES = {
    "ID": ["id", "en"],
    "PH": ["tl", "en"],
    "VN": ["vi", "en"],
    "KR": ["ko", "en"],
    "TH": ["th", "en"],
    "SG": ["en", "ms", "zh"],
}


def write_lexicons(directory: Path, files: dict[str, str] | None = None, combinations: str = COMBINATIONS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "combinations.yaml").write_text(textwrap.dedent(combinations), encoding="utf-8")
    for lang, text in (LEXICONS if files is None else files).items():
        (directory / f"{lang}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def write_config(root: Path) -> Path:
    """A config dir with lexicons/ and countries/ (countries carry extra keys)."""
    write_lexicons(root / "lexicons")
    cdir = root / "countries"
    cdir.mkdir(parents=True, exist_ok=True)
    for cc, langs in COUNTRIES.items():
        (cdir / f"{cc}.yaml").write_text(
            f"country: {cc}\ndefault_language: {langs[0]}\nlanguages: [{', '.join(langs)}]\n"
            "notice:\n  title: anything\nhotlines:\n  - name: x\n    phone: '123'\n",
            encoding="utf-8",
        )
    return root


@pytest.fixture
def lexdir(tmp_path: Path) -> Path:
    return write_lexicons(tmp_path / "lexicons")


@pytest.fixture
def detector(lexdir: Path) -> Detector:
    return Detector(load_lexicons(lexdir), COUNTRIES)


@pytest.fixture
def is_gbv(detector: Detector) -> Callable[..., bool]:
    def f(query: str, country: str, locale: str | None = None) -> bool:
        return detector.detect(query, country, locale).is_gbv

    return f


@pytest.fixture(scope="module")
def shared_detector(tmp_path_factory: pytest.TempPathFactory) -> Detector:
    """A module-scoped detector (for hypothesis tests; detection is stateless)."""
    d = write_lexicons(tmp_path_factory.mktemp("lex") / "lexicons")
    return Detector(load_lexicons(d), COUNTRIES)
