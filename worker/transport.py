"""A Faust transport driver that hands the agent one event per fetched chunk of a partition.

Faust's per-record machinery (a Message, an Event, flow-control queues and several
awaits for every record) costs far more than our detector. This driver subclasses
Faust's aiokafka consumer and groups the records a fetch returns for one partition
into a single `RecordChunk` message, so the agent iterates chunks and handles their
records in a plain loop. Everything else stays Faust's: group membership, rebalances,
fetch flow control, sensors, and offsets: a chunk is acked like any message (its offset
is its last record's), and Faust's own gap tracking covers the offsets before it, so
Faust commits past a chunk only once the whole chunk has been handled.

It also chooses the broker wait of every fetch (`FetchWait`): short for low latency, longer
when the broker needs it.

Selected with the consumer URL scheme `kafka+chunks://` (see worker/app.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Iterator, List, NamedTuple, Optional, Sequence, Set

from aiokafka import TopicPartition
from aiokafka.consumer import fetcher as aiokafka_fetcher
from faust.transport import drivers
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP

log = logging.getLogger(__name__)

SCHEME = "kafka+chunks"


class RecordChunk:
    """Quacks like aiokafka's ConsumerRecord for Faust; `value` is the tuple of records."""

    __slots__ = ("topic", "partition", "offset", "timestamp", "timestamp_type", "headers", "key", "value",
                 "checksum", "serialized_key_size", "serialized_value_size")

    def __init__(self, records: Sequence[Any]) -> None:
        last = records[-1]
        self.topic = last.topic
        self.partition = last.partition
        self.offset = last.offset
        self.timestamp = last.timestamp
        self.timestamp_type = last.timestamp_type
        self.headers = []
        self.key = None
        self.value = tuple(records)
        self.checksum = None
        self.serialized_key_size = 0
        self.serialized_value_size = sum(max(0, r.serialized_value_size or 0) for r in records)


class Gap(NamedTuple):
    begin: int
    end: int          # exclusive, as in intervaltree


class OffsetGaps:
    """One partition's gap offsets (offsets Faust will not see as messages of their own) as a
    sorted list of disjoint [begin, end) ranges.

    Faust keeps them in an `intervaltree.IntervalTree` and rebuilds the whole tree on every
    add (`merge_overlaps`). With a chunk per fetch that means two rebuilds per chunk: at
    5,000 events/s they took 30% of the worker's CPU (py-spy) and delayed every chunk
    behind them. Gaps arrive in offset order, so here an add is an append. This is the part
    of IntervalTree's interface Faust's consumer uses, with the same results as a tree after
    `merge_overlaps` (ranges that only touch stay apart); tests/unit/test_offset_gaps.py
    checks that against intervaltree itself.
    """

    __slots__ = ("_ranges",)

    def __init__(self) -> None:
        self._ranges: List[Gap] = []

    def __len__(self) -> int:
        return len(self._ranges)

    def __iter__(self) -> Iterator[Gap]:
        return iter(self._ranges)

    def addi(self, begin: int, end: int, data: Any = None) -> None:
        if begin >= end:
            raise ValueError(f"null gap [{begin}, {end})")
        ranges = self._ranges
        # The usual cases: past every gap so far, or overlapping only the last one (Faust and
        # the chunking consumer both register a chunk's gap).
        if not ranges or begin >= ranges[-1].end:
            ranges.append(Gap(begin, end))
            return
        if begin >= ranges[-1].begin:
            if end > ranges[-1].end:
                ranges[-1] = Gap(ranges[-1].begin, end)
            return
        merged: List[Gap] = []
        for gap in sorted([*ranges, Gap(begin, end)]):
            if merged and gap.begin < merged[-1].end:
                merged[-1] = Gap(merged[-1].begin, max(merged[-1].end, gap.end))
            else:
                merged.append(gap)
        self._ranges = merged

    def merge_overlaps(self) -> None:
        """Always merged already."""

    def overlap(self, begin: int, end: int) -> List[Gap]:
        if begin >= end:
            return []
        return [gap for gap in self._ranges if gap.begin < end and gap.end > begin]

    def chop(self, begin: int, end: int) -> None:
        kept: List[Gap] = []
        for gap in self._ranges:
            if gap.end <= begin or gap.begin >= end:
                kept.append(gap)
                continue
            if gap.begin < begin:
                kept.append(Gap(gap.begin, begin))
            if gap.end > end:
                kept.append(Gap(end, gap.end))
        self._ranges = kept


class FetchWait:
    """How long the broker may hold our next fetch, in ms: pure policy, no I/O.

    A short wait keeps latency low on a broker that parks a fetch for the full wait when it
    finds no new records (Tansu does; Kafka answers as soon as records arrive). But Tansu
    0.6.0's memory storage also lists a partition's whole log on every fetch, and when that
    takes longer than the wait it answers with no records at all, even far behind the log
    end: with 10 ms the stream stalled once a partition held about 20,000 batches. So a fetch
    that comes back empty while the broker reports records past our position doubles the
    wait (up to `ceiling_ms`); a run of empty fetches with nothing pending (the stream is
    idle, or the broker got faster) halves it again, back down to `floor_ms`.
    """

    __slots__ = ("floor_ms", "ceiling_ms", "wait_ms", "_idle_run", "idle_fetches_to_lower")

    def __init__(self, floor_ms: int, ceiling_ms: int, idle_fetches_to_lower: int = 16) -> None:
        if floor_ms < 0 or ceiling_ms < floor_ms:
            raise ValueError(f"fetch wait: need 0 <= floor ({floor_ms}) <= ceiling ({ceiling_ms})")
        self.floor_ms = floor_ms
        self.ceiling_ms = ceiling_ms
        self.wait_ms = floor_ms
        self.idle_fetches_to_lower = idle_fetches_to_lower
        self._idle_run = 0

    def observe(self, got_records: bool, records_pending: bool) -> int:
        """After a fetch: did it return records, and does the broker report records past our
        position in any fetched partition? Returns the wait for the next fetch."""
        if got_records:
            self._idle_run = 0
        elif records_pending:
            self._idle_run = 0
            self.wait_ms = min(self.ceiling_ms, max(1, self.wait_ms * 2))
        else:
            self._idle_run += 1
            if self._idle_run >= self.idle_fetches_to_lower and self.wait_ms > self.floor_ms:
                self._idle_run = 0
                self.wait_ms = max(self.floor_ms, self.wait_ms // 2)
        return self.wait_ms


class AdaptiveWaitFetcher(aiokafka_fetcher.Fetcher):
    """aiokafka's fetcher, with the broker wait of each fetch chosen by a `FetchWait`."""

    fetch_wait: FetchWait
    on_wait_change: Any = None      # called with (old_ms, new_ms, pending_records) when it changes

    async def _proc_fetch_request(self, assignment, node_id, request):
        got_records = await super()._proc_fetch_request(assignment, node_id, request)
        pending = 0
        if not got_records and assignment.active:
            for topic, partitions in request.topics:
                for partition_data in partitions:
                    tp = TopicPartition(topic, partition_data[0])
                    if tp in assignment.tps:
                        state = assignment.state_value(tp)
                        if state.has_valid_position and state.highwater is not None:
                            pending += max(0, state.highwater - state.position)
        old = self._fetch_max_wait_ms
        new = self.fetch_wait.observe(bool(got_records), pending > 0)
        if new != old:
            self._fetch_max_wait_ms = new
            if self.on_wait_change is not None:
                self.on_wait_change(old, new, pending)
        return got_records


def _fetch_wait_changed(old_ms: int, new_ms: int, pending: int) -> None:
    from worker.app import metrics

    metrics.fetch_wait.set(new_ms / 1000)
    if new_ms > old_ms:
        log.info("The broker returned no records although %d are pending past our position: "
                 "fetch wait raised from %d to %d ms", pending, old_ms, new_ms)
    else:
        log.info("Fetches idle: fetch wait lowered from %d to %d ms", old_ms, new_ms)


class FastFetchConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread, fetching with an adaptive broker wait (`FetchWait`) between
    GBV_FETCH_MAX_WAIT_MS and GBV_FETCH_WAIT_CEILING_MS, where Faust fixes 1,500 ms."""

    async def on_start(self) -> None:
        from worker.app import metrics, settings

        await super().on_start()
        # The fetcher is created by AIOKafkaConsumer.start(); its fetch loop looks the wait up
        # for every request, so switching the instance to the subclass takes effect at once.
        fetcher = self._consumer._fetcher
        fetcher.__class__ = AdaptiveWaitFetcher
        fetcher.fetch_wait = FetchWait(settings.fetch_max_wait_ms, settings.fetch_wait_ceiling_ms)
        fetcher.on_wait_change = _fetch_wait_changed
        fetcher._fetch_max_wait_ms = fetcher.fetch_wait.wait_ms
        metrics.fetch_wait.set(fetcher._fetch_max_wait_ms / 1000)


class ChunkingConsumer(aiokafka_driver.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gap = defaultdict(OffsetGaps)

    def _new_consumer_thread(self) -> FastFetchConsumerThread:
        return FastFetchConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _getmany(self, active_partitions: Optional[Set[TP]], timeout: float):
        # At most broker_max_poll_records (GBV_MAX_POLL_RECORDS) per fetch, one chunk per partition.
        records = await super()._getmany(active_partitions, timeout)
        chunked = {}
        for tp, batch in records.items():
            if not batch:
                continue
            if len(batch) > 1:
                # The offsets before the chunk's own are a gap to Faust's ack bookkeeping. Faust
                # registers such gaps itself, but not after a message at offset 0 (it takes a
                # read offset of 0 for "none"), which would stall the partition's commits.
                await super()._add_gap(tp, batch[0].offset, batch[-1].offset - 1)
            chunked[tp] = [RecordChunk(batch)]
        return chunked

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Faust sees a chunk as one message whose offset jumps past the previous chunk's, and
        registers the skipped offsets as a gap *including* the chunk's own offset, which the
        agent then acks as well. The duplicate breaks Faust's run of consecutive acked offsets,
        and commits fall behind. The chunk's own offset is acked, so the gap stops before it."""
        await super()._add_gap(tp, offset_from, offset_to - 1)


class ChunkingTransport(aiokafka_driver.Transport):
    Consumer = ChunkingConsumer


drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:ChunkingTransport"
