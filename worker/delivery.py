"""In-order, pipelined delivery: the at-least-once half of the stream.

The agent hands over each chunk with the records it produced (notices, dead letters).
They are sent at once; a single task then waits for the broker's acknowledgements chunk
by chunk, in arrival order, and only then acks the chunk's Faust event, so Faust commits
an offset only after everything produced for the events before it is acknowledged.
Waiting here instead of in the agent lets the agent handle the next chunk meanwhile:
an acknowledgement round trip per chunk no longer adds to every search's latency.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, NamedTuple, Sequence

log = logging.getLogger(__name__)

RETRY_BACKOFF_S = (0.5, 1, 2, 5)
MAX_PENDING_CHUNKS = 64           # backpressure: the agent waits when this many are unacknowledged


class Outgoing(NamedTuple):
    """A record to send, with what to count once the broker acknowledges it."""

    topic: str
    key: bytes | None
    value: bytes
    notice: Any | None               # the NoticeDisplay, None for a dead letter
    reason: str | None               # dead-letter reason


class InOrderDelivery:
    def __init__(self, send: Callable[[Outgoing], Awaitable[asyncio.Future]],
                 ack: Callable[[Any], Awaitable[Any]],
                 on_delivered: Callable[[Sequence[Outgoing]], None],
                 on_send_error: Callable[[int, BaseException], None]) -> None:
        self._send = send
        self._ack = ack
        self._on_delivered = on_delivered
        self._on_send_error = on_send_error
        self._queue: asyncio.Queue = asyncio.Queue(MAX_PENDING_CHUNKS)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._settle_in_order())

    async def submit(self, event: Any, outgoing: Sequence[Outgoing]) -> None:
        """Send the chunk's records now; its event is acked once all are acknowledged."""
        futures = [await self._start_send(o) for o in outgoing]
        await self._queue.put((event, outgoing, futures))

    async def close(self) -> None:
        """Wait until every submitted chunk is acknowledged and acked (graceful stop)."""
        if self._task is None:
            return
        if not self._task.done():
            await self._queue.join()
        self._task.cancel()

    async def _start_send(self, outgoing: Outgoing) -> asyncio.Future:
        try:
            return await self._send(outgoing)
        except Exception as exc:  # the producer refused at once: settle it like a failed send
            failed = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    async def _settle_in_order(self) -> None:
        while True:
            event, outgoing, futures = await self._queue.get()
            try:
                await self._until_acknowledged(outgoing, futures)
                self._on_delivered(outgoing)
                await self._ack(event)
            finally:
                self._queue.task_done()

    async def _until_acknowledged(self, outgoing: Sequence[Outgoing], futures: list) -> None:
        """Retry what failed until the broker acknowledges it: an outage delays, never loses."""
        attempt = 0
        while futures:
            results = await asyncio.gather(*futures, return_exceptions=True)
            failed = [o for o, r in zip(outgoing, results) if isinstance(r, BaseException)]
            if not failed:
                return
            error = next(r for r in results if isinstance(r, BaseException))
            self._on_send_error(len(failed), error)
            delay = RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)]
            log.warning("Broker did not acknowledge %d of %d records (%s); retrying in %.1fs",
                        len(failed), len(outgoing), type(error).__name__, delay)
            attempt += 1
            await asyncio.sleep(delay)
            outgoing = failed
            futures = [await self._start_send(o) for o in failed]
