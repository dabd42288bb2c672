"""Notices end to end: every country, every supported language, and the 03:00 rule."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from worker.notices.registry import load_registry
from worker.testing import consume, produce, search_event

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = load_registry(ROOT / "config")
# A clearly GBV query per country, in its main language.
QUERIES = {"ID": "kdrt", "MY": "keganasan rumah tangga", "PH": "binugbog ako ng asawa ko",
           "TH": "ความรุนแรงในครอบครัว", "SG": "domestic violence hotline", "KR": "가정폭력 신고",
           "VN": "bạo lực gia đình"}


def local_ms(country: str, hour: int) -> int:
    zone = ZoneInfo(REGISTRY.countries[country].timezone)
    return int(dt.datetime(2026, 11, 25, hour, 0, tzinfo=zone).timestamp() * 1000)


def test_every_country_and_language_gets_its_notice_and_3am_leads_with_24_7(broker, topics, start_worker):
    start_worker()
    events, expected = [], {}
    for cc, country in REGISTRY.countries.items():
        if cc not in QUERIES:
            continue
        for language in country.languages:
            for hour in (3, 11):
                event_id = f"{cc}-{language}-{hour}"
                events.append(search_event(event_id, QUERIES[cc], cc.lower(), ts_ms=local_ms(cc, hour),
                                           locale=f"{language}-{cc}"))
                expected[event_id] = (cc, language, hour)
    produce(broker.bootstrap, topics.search, events)
    notices = {n.json()["search_event_id"]: n.json()
               for n in consume(broker.bootstrap, topics.notices, expect=len(expected), timeout=90)}
    assert set(notices) == set(expected)
    for event_id, (cc, language, hour) in expected.items():
        notice, country = notices[event_id], REGISTRY.countries[cc]
        assert notice["country"] == cc and notice["language"] == language
        assert notice["title"] == country.texts[language].title
        assert notice["hotlines"] and {h["id"] for h in notice["hotlines"]} <= set(country.hotlines)
        if hour == 3:
            lead = country.hotlines[notice["hotlines"][0]["id"]]
            assert lead.hours.always_open, f"{event_id}: a 03:00 search leads with {lead.id}"
    print(f"notices={len(notices)} countries={len(QUERIES)} "
          f"languages={sum(len(REGISTRY.countries[c].languages) for c in QUERIES)}")
