"""Opening hours of a hotline: always open, unknown, or a weekly schedule in an IANA zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class HoursError(ValueError):
    """The hours field does not parse; the message says why (no user data in it)."""


@dataclass(frozen=True)
class OpeningHours:
    always_open: bool
    known: bool = True
    zone: ZoneInfo | None = None
    # weekday (0 = Monday) -> tuple of (start_minute, end_minute), end exclusive
    weekly: tuple[tuple[tuple[int, int], ...], ...] = ()

    def is_open(self, ts_ms: int) -> bool | None:
        """Open at that instant; None when the hours are not known."""
        if self.always_open:
            return True
        if not self.known or self.zone is None:
            return None
        local = datetime.fromtimestamp(ts_ms / 1000, tz=self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.weekly[local.weekday()])

    def describe(self) -> str:
        if self.always_open:
            return "24/7"
        if not self.known:
            return "unknown"
        parts = []
        for day, spans in zip(DAYS, self.weekly):
            if spans:
                parts.append(day + " " + ",".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
                                                  for s, e in spans))
        return f"{'; '.join(parts)} ({self.zone.key})"


def _days(spec: str) -> list[int]:
    spec = spec.strip().lower()
    if "-" in spec:
        first, last = (part.strip() for part in spec.split("-", 1))
        if first not in DAYS or last not in DAYS:
            raise HoursError(f"unknown day range {spec!r} (use mon..sun, e.g. mon-fri)")
        start, end = DAYS.index(first), DAYS.index(last)
        if end < start:
            raise HoursError(f"day range {spec!r} runs backwards")
        return list(range(start, end + 1))
    if spec not in DAYS:
        raise HoursError(f"unknown day {spec!r} (use mon..sun)")
    return [DAYS.index(spec)]


def _span(text: str) -> tuple[int, int]:
    match = _SPAN.match(text.strip())
    if not match:
        raise HoursError(f"time span {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise HoursError(f"time span {text!r} has an impossible time")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise HoursError(f"time span {text!r} ends before it starts (split spans that cross midnight)")
    return start, end


def parse_hours(value: object) -> OpeningHours:
    """`24/7`, `unknown`, or {timezone: Area/City, weekly: {mon-fri: "09:00-16:00", sat: [...]}}."""
    if value == "24/7":
        return OpeningHours(always_open=True)
    if value == "unknown":
        return OpeningHours(always_open=False, known=False)
    if not isinstance(value, dict):
        raise HoursError("expected '24/7', 'unknown' or a mapping with timezone and weekly")
    extra = set(value) - {"timezone", "weekly"}
    if extra:
        raise HoursError(f"unknown keys {sorted(extra)}")
    zone_name = value.get("timezone")
    if not isinstance(zone_name, str):
        raise HoursError("timezone is required (an IANA name such as Asia/Jakarta)")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {zone_name!r}") from None
    weekly_spec = value.get("weekly")
    if not isinstance(weekly_spec, dict) or not weekly_spec:
        raise HoursError("weekly is required: a mapping of days to HH:MM-HH:MM spans")
    weekly: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for days, spans in weekly_spec.items():
        span_list = spans if isinstance(spans, list) else [spans]
        for span in span_list:
            if not isinstance(span, str):
                raise HoursError(f"time span for {days!r} must be a string")
            parsed = _span(span)
            for day in _days(str(days)):
                weekly[day].append(parsed)
    return OpeningHours(always_open=False, zone=zone, weekly=tuple(tuple(sorted(s)) for s in weekly))
