"""`gbv-worker diff`: two configurations over one recorded stream, offline.

Every valid search event of the file goes through exactly the worker's path
(`parse_search_event` -> `detector.detect` -> `choose_notice`) once with configuration
A and once with B. Per country the report counts the events that start showing a
notice under B, stop showing one, or show a different notice (another category or
language), with the categories involved, the rules responsible and a few example
event ids. This is how a lexicon change is reviewed before it ships.

Example queries appear only with `show_queries` (the reviewer has the file anyway,
but the report may be pasted into a pull request: leaving the queries out is the
default).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Iterable

from worker.events import DEFAULT_MAX_EVENT_BYTES, InvalidEvent, SearchEvent, parse_search_event
from worker.notices.selection import choose_notice
from worker.runtime import RuntimeConfig
from worker.traffic.progress import Progress
from worker.traffic.records import LineError, decode_line
from worker.traffic.replay import Problem, ReadFailure, format_problems, lines_or_failure

KINDS = ("start", "stop", "changed")


@dataclass(frozen=True, slots=True)
class Outcome:
    notice_id: str | None        # the notice shown, None when none is
    category: str | None         # the detection's category (also when no notice: unsupported country)
    rules: tuple[str, ...]


def outcome(config: RuntimeConfig, event: SearchEvent) -> Outcome:
    """What the worker would show for this event under `config` (the worker's own path)."""
    detection = config.detector.detect(event.query, event.country, event.locale)
    if not detection.is_gbv:
        return Outcome(None, None, detection.rule_ids)
    notice = choose_notice(config.registry, event, detection.category, config.detector_version,
                           config.config_version)
    return Outcome(notice.notice_id if notice else None, detection.category, detection.rule_ids)


@dataclass
class CountryDiff:
    events: int = 0
    notices_a: int = 0
    notices_b: int = 0
    counts: collections.Counter = field(default_factory=collections.Counter)             # kind -> n
    categories: dict[str, collections.Counter] = field(
        default_factory=lambda: {k: collections.Counter() for k in KINDS})                  # kind -> label -> n
    rules: dict[str, collections.Counter] = field(
        default_factory=lambda: {k: collections.Counter() for k in KINDS})                  # kind -> rule -> n
    examples: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in KINDS})


@dataclass
class DiffReport:
    source: list[str]
    config_a: dict
    config_b: dict
    events: int = 0
    malformed: list[Problem] = field(default_factory=list)
    countries: dict[str, CountryDiff] = field(default_factory=dict)
    show_queries: bool = False

    @property
    def changes(self) -> int:
        return sum(sum(c.counts.values()) for c in self.countries.values())

    def as_dict(self) -> dict:
        return {
            "files": self.source, "config_a": self.config_a, "config_b": self.config_b,
            "events": self.events, "changed_events": self.changes,
            "malformed": [p.as_dict() for p in self.malformed],
            "countries": {
                cc: {"events": d.events, "notices_a": d.notices_a, "notices_b": d.notices_b,
                     **{kind: {"count": d.counts[kind], "categories": dict(d.categories[kind].most_common()),
                               "rules": dict(d.rules[kind].most_common()), "examples": d.examples[kind]}
                        for kind in KINDS}}
                for cc, d in sorted(self.countries.items())},
        }


def _describe(config: RuntimeConfig) -> dict:
    return {"dir": str(config.config_dir), "config_version": config.config_version,
            "detector_version": config.detector_version}


def diff_events(config_a: RuntimeConfig, config_b: RuntimeConfig, paths: Iterable[str], *, examples: int = 3,
                show_queries: bool = False, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
                progress: Progress | None = None) -> DiffReport:
    paths = list(paths)
    report = DiffReport(paths, _describe(config_a), _describe(config_b), show_queries=show_queries)
    if progress:
        progress.start()
    for line in (line for path in paths for line in lines_or_failure(path)):
        if isinstance(line, ReadFailure):
            report.malformed.append(Problem(line.source, line.line, line.reason))
            continue
        if not line.raw.strip():
            continue
        try:
            decoded = decode_line(line.raw)
            if decoded.value is None:
                raise InvalidEvent("empty")
            event = parse_search_event(decoded.value, max_event_bytes)
        except (LineError, InvalidEvent) as bad:
            report.malformed.append(Problem(line.source, line.number, bad.reason))
            continue
        report.events += 1
        country = report.countries.get(event.country)
        if country is None:
            country = report.countries[event.country] = CountryDiff()
        country.events += 1
        a, b = outcome(config_a, event), outcome(config_b, event)
        country.notices_a += a.notice_id is not None
        country.notices_b += b.notice_id is not None
        if a.notice_id == b.notice_id:
            pass
        elif a.notice_id is None:
            _record(country, "start", str(b.category), b.rules, event, a, b, line, examples, show_queries)
        elif b.notice_id is None:
            _record(country, "stop", str(a.category), a.rules, event, a, b, line, examples, show_queries)
        else:
            label = (f"{a.category} -> {b.category}" if a.category != b.category
                     else f"{a.notice_id} -> {b.notice_id}")
            _record(country, "changed", label, b.rules, event, a, b, line, examples, show_queries)
        if progress and report.events % 1024 == 0:
            progress.update(report.events)
    if progress:
        progress.finish()
    return report


def _record(country: CountryDiff, kind: str, label: str, rules: tuple[str, ...], event: SearchEvent,
            a: Outcome, b: Outcome, line, examples: int, show_queries: bool) -> None:
    country.counts[kind] += 1
    country.categories[kind][label] += 1
    for rule in rules or ("(no rule id)",):
        country.rules[kind][rule] += 1
    if len(country.examples[kind]) < examples:
        example = {"event_id": event.event_id, "line": f"{line.source}:{line.number}",
                   "a": {"notice_id": a.notice_id, "category": a.category, "rules": list(a.rules)},
                   "b": {"notice_id": b.notice_id, "category": b.category, "rules": list(b.rules)}}
        if show_queries:
            example["query"] = event.query
            example["locale"] = event.locale
        country.examples[kind].append(example)


def format_report(report: DiffReport) -> str:
    a, b = report.config_a, report.config_b
    out = [f"diff: {report.events:,} events from {', '.join(report.source)}",
           f"  A: {a['dir']}  ({a['config_version']}, {a['detector_version']})",
           f"  B: {b['dir']}  ({b['config_version']}, {b['detector_version']})"]
    if report.malformed:
        out.append(f"  {len(report.malformed):,} malformed line(s) skipped:")
        shown = format_problems(report.malformed)
        out.extend("  " + s for s in shown[:20])
        if len(shown) > 20:
            out.append(f"    ... {len(shown) - 20:,} more (--json lists every one)")
    out.append("")
    header = f"{'country':<8}{'events':>10}{'notices A':>11}{'notices B':>11}{'start':>8}{'stop':>8}{'changed':>9}"
    out.append(header)
    total = CountryDiff()
    for cc, d in sorted(report.countries.items()):
        out.append(f"{cc:<8}{d.events:>10,}{d.notices_a:>11,}{d.notices_b:>11,}{d.counts['start']:>8,}"
                   f"{d.counts['stop']:>8,}{d.counts['changed']:>9,}")
        total.events += d.events
        total.notices_a += d.notices_a
        total.notices_b += d.notices_b
        total.counts.update(d.counts)
    out.append(f"{'total':<8}{total.events:>10,}{total.notices_a:>11,}{total.notices_b:>11,}"
               f"{total.counts['start']:>8,}{total.counts['stop']:>8,}{total.counts['changed']:>9,}")
    if not report.changes:
        out.append("")
        out.append("No event changes: A and B show the same notices for this stream.")
        return "\n".join(out)
    titles = {"start": "start showing a notice under B", "stop": "stop showing a notice under B",
              "changed": "show a different notice under B"}
    for cc, d in sorted(report.countries.items()):
        if not sum(d.counts.values()):
            continue
        out.append("")
        out.append(f"{cc}")
        for kind in KINDS:
            if not d.counts[kind]:
                continue
            categories = ", ".join(f"{label} {n:,}" for label, n in d.categories[kind].most_common())
            out.append(f"  {d.counts[kind]:,} {titles[kind]}: {categories}")
            rules = ", ".join(f"{rule} {n:,}" for rule, n in d.rules[kind].most_common(5))
            out.append(f"    rules ({'B' if kind != 'stop' else 'A'}): {rules}")
            for example in d.examples[kind]:
                side = example["b"] if kind != "stop" else example["a"]
                text = f"    e.g. {example['event_id']} ({example['line']}): {side['category']}"
                if kind == "changed":
                    text = (f"    e.g. {example['event_id']} ({example['line']}): "
                            f"{example['a']['notice_id']} -> {example['b']['notice_id']}")
                if "query" in example:
                    text += f"  query {example['query']!r}"
                out.append(text)
    if not report.show_queries:
        out.append("")
        out.append("(queries hidden; --show-queries adds them to the examples)")
    return "\n".join(out)
