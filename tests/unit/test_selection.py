"""Notice choice: language from the locale, hotlines in order, closed lines behind open ones."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from worker.events import SearchEvent
from worker.notices.registry import load_registry
from worker.notices.selection import choose_notice, primary_language

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = load_registry(ROOT / "config")


def event(country: str, locale: str | None, local_time: dt.datetime) -> SearchEvent:
    zone = ZoneInfo(REGISTRY.countries[country].timezone) if country in REGISTRY.countries else ZoneInfo("UTC")
    ts_ms = int(local_time.replace(tzinfo=zone).timestamp() * 1000)
    return SearchEvent("e1", ts_ms, "q", country, locale)


@pytest.mark.parametrize("locale, expected", [("id-ID", "id"), ("fil-PH", "tl"), ("zh-Hans-SG", "zh"),
                                              ("en_US", "en"), (None, None), ("", None)])
def test_primary_language(locale, expected):
    assert primary_language(locale) == expected


@pytest.mark.parametrize("country", ["ID", "MY", "PH", "TH", "SG", "KR", "VN"])
def test_each_supported_language_gets_its_own_text(country):
    config = REGISTRY.countries[country]
    titles = set()
    for language in config.languages:
        notice = choose_notice(REGISTRY, event(country, f"{language}-{country}", dt.datetime(2026, 11, 25, 11)),
                               "domestic_violence", "det-x", "cfg-x")
        assert notice.language == language
        assert notice.title == config.texts[language].title
        assert notice.notice_id == f"{country}.domestic_violence.{language}"
        assert notice.hotlines and {h["id"] for h in notice.hotlines} <= set(config.hotlines)
        titles.add(notice.title)
    assert len(titles) == len(config.languages)


def test_unsupported_locale_falls_back_to_the_country_default():
    notice = choose_notice(REGISTRY, event("KR", "fr-FR", dt.datetime(2026, 11, 25, 11)), "stalking", "d", "c")
    assert notice.language == "ko"


@pytest.mark.parametrize("country", ["ID", "MY", "PH", "TH", "SG", "KR", "VN"])
@pytest.mark.parametrize("category", ["domestic_violence", "sexual_violence", "harassment", "other_gbv"])
def test_at_three_in_the_morning_a_24_7_line_leads(country, category):
    notice = choose_notice(REGISTRY, event(country, None, dt.datetime(2026, 11, 25, 3, 0)), category, "d", "c")
    first = REGISTRY.countries[country].hotlines[notice.hotlines[0]["id"]]
    assert first.hours.always_open and notice.hotlines[0]["open_now"] is True
    states = [h["open_now"] for h in notice.hotlines]
    assert states == sorted(states, key=lambda s: s is not True), "closed lines must follow open ones"


def test_office_hours_line_keeps_its_place_when_open():
    # Komnas Perempuan leads other_gbv in ID during office hours, and drops behind SAPA 129 at night.
    day = choose_notice(REGISTRY, event("ID", "id", dt.datetime(2026, 11, 25, 10)), "other_gbv", "d", "c")
    night = choose_notice(REGISTRY, event("ID", "id", dt.datetime(2026, 11, 25, 3)), "other_gbv", "d", "c")
    assert [h["id"] for h in day.hotlines] == ["komnas_perempuan", "sapa129"]
    assert [h["id"] for h in night.hotlines] == ["sapa129", "komnas_perempuan"]
    assert [h["open_now"] for h in night.hotlines] == [True, False]


def test_unknown_hours_move_behind_the_24_7_line():
    notice = choose_notice(REGISTRY, event("SG", "en", dt.datetime(2026, 11, 25, 11)), "sexual_violence", "d", "c")
    assert [h["id"] for h in notice.hotlines][:2] == ["navh", "police_sg"]
    assert notice.hotlines[-1] == {**notice.hotlines[-1], "id": "aware_sacc", "open_now": None}


def test_unconfigured_country_gets_the_fallback():
    assert choose_notice(REGISTRY, event("FR", "fr", dt.datetime(2026, 11, 25, 11)), "other_gbv", "d", "c") is None
    from dataclasses import replace
    with_fallback = replace(REGISTRY, fallback_country="SG")
    notice = choose_notice(with_fallback, event("FR", "fr", dt.datetime(2026, 11, 25, 11)), "other_gbv", "d", "c")
    assert notice.country == "SG" and notice.language == "en"
