"""A Faust transport driver that hands the agent one event per fetched chunk of a partition.

Faust's per-record machinery (a Message, an Event, flow-control queues and several
awaits for every record) costs far more than our detector. This driver subclasses
Faust's aiokafka consumer and groups the records a fetch returns for one partition
into a single `RecordChunk` message, so the agent iterates chunks and handles their
records in a plain loop. Everything else stays Faust's: group membership, rebalances,
fetch flow control, sensors, and offsets: a chunk is acked like any message (its offset
is its last record's), and Faust's own gap tracking covers the offsets before it, so
Faust commits past a chunk only once the whole chunk has been handled.

Selected with the consumer URL scheme `kafka+chunks://` (see worker/app.py).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Set

from faust.transport import drivers
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP

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




class FastFetchConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread with a configurable fetch wait (GBV_FETCH_MAX_WAIT_MS). Faust
    fixes fetch_max_wait_ms at 1,500 ms; a broker that parks a fetch for the full wait when
    no new data is there (Tansu does) holds back the partitions that have data, so a notice
    can take a second or more. 10 ms (the default) keeps fetches flowing, but on Tansu it
    stalled the stream under sustained load in soak runs, where 1,500 ms did not: an open
    defect (docs/operations.md, Known limits)."""

    def _create_worker_consumer(self, transport):
        from worker.app import settings

        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = settings.fetch_max_wait_ms
        return consumer


class ChunkingConsumer(aiokafka_driver.Consumer):
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
