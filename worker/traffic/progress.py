"""Progress for long-running traffic tools: a redrawn bar on a terminal, periodic lines otherwise."""

from __future__ import annotations

import collections
import sys
import time
from typing import IO


def human_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """`update(count)` as often as you like; it draws at most every `redraw_s` (terminal) or
    prints a line every `line_every_s` (pipe, log file). Nothing is ever printed about content."""

    def __init__(self, label: str, total: int | None = None, stream: IO[str] | None = None,
                 unit: str = "events", tty: bool | None = None, line_every_s: float = 5.0,
                 redraw_s: float = 0.1, enabled: bool = True) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.unit = unit
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = redraw_s if self.tty else line_every_s
        self.enabled = enabled
        self.started = time.monotonic()
        self._next = self.started + self.interval
        self._window: collections.deque[tuple[float, int]] = collections.deque()
        self._drawn = False
        self.count = 0

    def start(self) -> None:
        self.started = time.monotonic()
        self._next = self.started + self.interval
        self._window.clear()

    def update(self, count: int, now: float | None = None) -> None:
        self.count = count
        now = time.monotonic() if now is None else now
        if now < self._next or not self.enabled:
            return
        self._next = now + self.interval
        self._window.append((now, count))
        while len(self._window) > 2 and now - self._window[0][0] > 3.0:
            self._window.popleft()
        self._emit(now)

    def rate(self, now: float) -> float:
        """Recent rate (last ~3 s), or the average when there is no window yet."""
        if len(self._window) >= 2:
            (t0, c0), (t1, c1) = self._window[0], self._window[-1]
            if t1 > t0:
                return (c1 - c0) / (t1 - t0)
        elapsed = now - self.started
        return self.count / elapsed if elapsed > 0 else 0.0

    def _emit(self, now: float) -> None:
        rate = self.rate(now)
        done = f"{self.count:,}"
        eta = ""
        pct = ""
        if self.total:
            done += f"/{self.total:,}"
            fraction = min(1.0, self.count / self.total)
            pct = f" {fraction * 100:5.1f}%"
            if rate > 0:
                eta = f"  ETA {human_duration((self.total - self.count) / rate)}"
        if self.tty:
            bar = ""
            if self.total:
                width = 28
                filled = int(width * min(1.0, self.count / self.total))
                bar = "[" + "#" * filled + "." * (width - filled) + "] "
            text = f"\r{self.label} {bar}{done}{pct}  {rate:,.0f} {self.unit}/s{eta}  "
            self.stream.write(text + "\x1b[K")
            self._drawn = True
        else:
            self.stream.write(f"{self.label}: {done} {self.unit}{pct}, {rate:,.0f}/s{eta}\n")
        self.stream.flush()

    def finish(self) -> None:
        """Remove the bar (the caller prints its summary)."""
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
