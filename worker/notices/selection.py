"""Notice choice: which text, in which language, with which hotlines in which order. Pure code."""

from __future__ import annotations

from worker.events import NoticeDisplay, SearchEvent
from worker.notices.registry import CountryNotices, Hotline, HotlineRegistry

# Legacy or macro-language tags that name a language we configure under another code.
LANGUAGE_ALIASES = {"fil": "tl", "in": "id", "zsm": "ms", "cmn": "zh", "kor": "ko", "tha": "th",
                    "vie": "vi", "ind": "id", "msa": "ms", "may": "ms", "tgl": "tl", "eng": "en", "zho": "zh"}


def primary_language(locale: str | None) -> str | None:
    """BCP 47 primary subtag, lower-case, aliases resolved: 'id-ID' -> 'id', 'fil-PH' -> 'tl'."""
    if not locale:
        return None
    primary = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return LANGUAGE_ALIASES.get(primary, primary) or None


def choose_language(country: CountryNotices, locale: str | None) -> str:
    language = primary_language(locale)
    return language if language in country.texts else country.default_language


def order_hotlines(country: CountryNotices, category: str, ts_ms: int) -> list[tuple[Hotline, bool | None]]:
    """Configured order, except that closed lines (or lines of unknown hours) move behind the
    open ones, and when any configured line is closed a 24/7 line leads: if the category's
    list has none, the country's 24/7 lines are added in front."""
    lines = [country.hotlines[hid] for hid in country.routing.get(category, ())]
    states = [(line, line.hours.is_open(ts_ms)) for line in lines]
    if all(state is True for _, state in states):
        return states
    listed = {line.id for line in lines}
    always = [(country.hotlines[hid], True) for hid in country.always_open if hid not in listed]
    round_the_clock = [s for s in states if s[0].hours.always_open]
    other_open = [s for s in states if s[1] is True and not s[0].hours.always_open]
    not_open = [s for s in states if s[1] is not True]
    if round_the_clock:
        return round_the_clock + other_open + not_open
    return always + other_open + not_open


def hotline_view(line: Hotline, open_now: bool | None) -> dict:
    return {
        "id": line.id,
        "name": line.name,
        "organisation": line.organisation,
        "channels": dict(line.channels),
        "open_now": open_now,
        "hours": line.hours.describe(),
        "free": line.free,
        "languages": list(line.languages),
    }


def choose_notice(registry: HotlineRegistry, event: SearchEvent, category: str, detector_version: str,
                  config_version: str) -> NoticeDisplay | None:
    """The notice for a GBV search, or None when the country has no configuration and no fallback."""
    country = registry.get(event.country)
    if country is None and registry.fallback_country:
        country = registry.get(registry.fallback_country)
    if country is None:
        return None
    language = choose_language(country, event.locale)
    text = country.texts[language]
    hotlines = [hotline_view(line, state) for line, state in order_hotlines(country, category, event.ts_ms)]
    return NoticeDisplay(
        search_event_id=event.event_id,
        search_ts_ms=event.ts_ms,
        country=country.country,
        language=language,
        category=category,
        notice_id=f"{country.country}.{category}.{language}",
        title=text.title,
        body=f"{text.body} {text.safety}",
        hotlines=hotlines,
        detector_version=detector_version,
        config_version=config_version,
        session_id=event.session_id,
    )
