"""The stream, top to bottom: search topic in -> parse -> detect -> choose notice -> emit -> count.

One agent, concurrency 1 (faust#606: concurrency > 1 commits past unprocessed
messages). The consumer transport (worker/transport.py) hands the agent the records of
one partition fetch as one Faust event (a chunk). The agent emits each chunk's notices
and dead letters; worker/delivery.py acks the chunk's event, in order, only once the
broker has acknowledged all of them, so Faust commits an offset only after everything
produced for the events before it is delivered. That is the at-least-once contract: a
crash replays at most the unacknowledged chunks, and notice ids are deterministic so
downstream de-duplicates repeats.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import logging
import signal
import time
from time import perf_counter
from typing import Sequence

from worker.app import app, config, dead_letter_topic, metrics, notice_topic, search_topic, settings
from worker.delivery import InOrderDelivery, Outgoing
from worker.events import InvalidEvent, encode_dead_letter, parse_search_event
from worker.notices.selection import choose_notice

log = logging.getLogger(__name__)
# Privacy: aiokafka's debug log dumps whole requests, responses and records (queries, user and
# session ids). It stays at INFO even under `-l debug`; the handlers still apply higher levels.
logging.getLogger("aiokafka").setLevel(logging.INFO)

LAG_REQUEST_TIMEOUT_S = 4.0
NOTICES = notice_topic.get_topic_name()
DEAD_LETTERS = dead_letter_topic.get_topic_name()
# A dead letter carries its original in base64 (4/3 of its size) plus a few hundred bytes;
# keep it, with room for the key, inside one producer request (producer_max_request_size).
MAX_DEAD_LETTER_ORIGINAL = max(1024, (app.conf.producer_max_request_size - 64 * 1024) * 3 // 4)


@app.agent(search_topic, concurrency=1)
async def handle_search_events(stream):
    chunks = stream.noack()           # acked by the delivery, in order, once delivered
    delivery = InOrderDelivery(send, chunks.ack, count, count_send_errors)
    delivery.start()
    try:
        async for event in chunks.events():
            current = config.current      # reloads swap between chunks, never inside one
            outgoing: list[Outgoing] = []
            searches: collections.Counter = collections.Counter()
            durations: list[float] = []
            for record in event.value:
                started = perf_counter()
                # parse
                try:
                    search = parse_search_event(record.value, settings.max_event_bytes)
                except InvalidEvent as bad:
                    outgoing.append(dead_letter(record, bad.reason))
                    continue
                try:
                    # detect
                    detection = current.detector.detect(search.query, search.country, search.locale)
                    # choose notice
                    notice = choose_notice(current.registry, search, detection.category,
                                           current.detector_version, current.config_version
                                           ) if detection.is_gbv else None
                except Exception as exc:  # noqa: BLE001 - an event must never stop the stream
                    # Only the type is logged: an exception's message may quote the query.
                    log.error("Detection failed on an event (%s); dead-lettered as internal_error",
                              type(exc).__name__)
                    outgoing.append(dead_letter(record, "internal_error"))
                    continue
                searches[search.country] += 1
                if detection.is_gbv:
                    if notice is None:
                        metrics.unsupported_country.inc()
                    else:
                        # emit (keyed like the search event, so a key's notices stay in order)
                        outgoing.append(Outgoing(NOTICES, record.key or search.event_id.encode(),
                                                 notice.encode(time.time_ns() // 1_000_000), notice, None))
                durations.append(perf_counter() - started)
            # count (per chunk: the per-event metric calls cost more than the events)
            metrics.count_searches(searches)
            metrics.processing.observe_many(durations)
            await delivery.submit(event, outgoing)
    finally:
        await delivery.close()        # a graceful stop acks (and so commits) what was delivered


def dead_letter(record, reason: str) -> Outgoing:
    # An original too big for one producer request is cut, or its dead letter could never
    # be delivered (and the partition would wait on it forever).
    original = record.value[:MAX_DEAD_LETTER_ORIGINAL] if record.value else record.value
    return Outgoing(DEAD_LETTERS, record.key, encode_dead_letter(
        reason, record.topic, record.partition, record.offset, original, time.time_ns() // 1_000_000), None, reason)


async def send(o: Outgoing) -> asyncio.Future:
    return await app.producer.send(o.topic, o.key, o.value, None, None, None)


def count(outgoing: Sequence[Outgoing]) -> None:
    """Impressions and dead letters, once the broker has acknowledged them."""
    now = time.time()
    for o in outgoing:
        if o.notice is not None:
            n = o.notice
            metrics.count_impression(n.country, n.language, n.category, n.notice_id)
            metrics.event_to_notice.observe(max(0.0, now - n.search_ts_ms / 1000))
        else:
            metrics.count_dead_letter(o.reason or "unknown")


def count_send_errors(failed: int, _error: BaseException) -> None:
    metrics.broker_errors.labels("send").inc(failed)


@app.task
async def on_worker_start() -> None:
    """Load configuration (refuse to run on an invalid one), declare topics, hook SIGHUP."""
    config.current  # noqa: B018  (raises ConfigErrors on invalid configuration)
    # The detector's automaton and tables are long-lived: keep them out of the cyclic GC's
    # scans, whose full passes over them stalled the stream for tens of milliseconds.
    gc.freeze()
    for topic in (notice_topic, dead_letter_topic):
        await topic.maybe_declare()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, reload_config)
    log.info("Worker serving: search=%s notices=%s dead-letters=%s config_version=%s detector_version=%s",
             settings.search_topic, settings.notice_topic, settings.dlq_topic,
             config.current.config_version, config.current.detector_version)


def reload_config() -> None:
    if config.reload():
        gc.freeze()
        metrics.config_reloads.labels("ok").inc()


@app.timer(2.0)
async def watch_config_files() -> None:
    """Optional reload on file change (GBV_RELOAD_ON_CHANGE); SIGHUP always works."""
    if not settings.reload_on_change:
        return
    stamp = _config_stamp()
    previous = getattr(watch_config_files, "stamp", None)
    watch_config_files.stamp = stamp
    if previous is not None and stamp != previous:
        reload_config()


def _config_stamp() -> tuple:
    root = config.config_dir
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*.yaml")))


@app.timer(5.0)
async def export_consumer_lag() -> None:
    """gbv_consumer_lag for each search-topic partition this worker owns: the log end offset
    (asked from the broker; the fetch-time highwater is unknown until a fetch returned data)
    minus the group's committed offset, i.e. events not yet processed and acknowledged.
    Partitions this worker gave up in a rebalance leave the gauge (their new owner reports
    them). If the broker does not answer, the last values stay and the next tick retries."""
    consumer = app.consumer
    topic = search_topic.get_topic_name()
    try:
        partitions = sorted(tp for tp in consumer.assignment() if tp.topic == topic)
    except Exception:  # consumer thread not started yet (or stopping)
        return
    lags = []
    if partitions:
        try:
            # Bounded: during a broker outage the request fails or hangs; either way it is
            # counted (gbv_broker_errors_total{operation="lag"}), so an outage shows in metrics.
            async with asyncio.timeout(LAG_REQUEST_TIMEOUT_S):
                ends = await consumer.highwaters(*partitions)
                committed = {tp: consumer._committed_offset.get(tp) for tp in partitions}  # next offset to read
                never_committed = [tp for tp, offset in committed.items() if offset is None]
                if never_committed:
                    committed.update(await consumer.earliest_offsets(*never_committed))
        except Exception as exc:
            metrics.broker_errors.labels("lag").inc()
            log.warning("Broker did not answer the consumer-lag request (%s); retrying in 5s", type(exc).__name__)
            return
        for tp in partitions:
            # The larger of the broker's answer and the highwater of the last fetch: Tansu 0.6
            # answers "latest offset" with the start of the last record batch (too low), while
            # its fetch responses carry the right highwater.
            known = [x for x in (ends.get(tp), consumer.highwater(tp)) if x is not None]
            end = max(known) if known else None
            if end is not None:
                lags.append((tp.topic, tp.partition, max(0, end - (committed.get(tp) or 0))))
    metrics.set_lag(lags)


@app.page("/metrics")
async def metrics_page(web, request):
    # aiohttp refuses a charset inside content_type=, so the full Prometheus type goes in the header.
    return web.bytes(metrics.exposition(), headers={"Content-Type": metrics.content_type})
